using System.Collections.Concurrent;

namespace FastBuddy.Soak;

/// <summary>What one arena's workload did, summed over its threads.</summary>
internal sealed class Counters
{
    public long Operations, Allocations, Frees, FailedAllocations, CacheAdds, ThreadsStarted, ThreadsAlive, MaxThreadsAlive;
    public long Validations, RemovesLostToEvict, PageCounts, ConcurrentValidations, ConcurrentValidateReports;
    public ConcurrentQueue<string> ConcurrentReports { get; } = new();
    public int MaxRegistry;
    private readonly ConcurrentQueue<string> _errors = new();

    public int ErrorCount => _errors.Count;
    public IEnumerable<string> Errors => _errors;

    public void Error(string what)
    {
        if (_errors.Count < 1000)
            _errors.Enqueue(what);
        Console.Error.WriteLine($"error: {what}");
    }
}
