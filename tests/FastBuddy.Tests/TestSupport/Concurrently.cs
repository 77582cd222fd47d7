using System.Collections.Concurrent;

namespace FastBuddy.Tests.TestSupport;

/// <summary>Runs a body on several threads that start together; rethrows whatever any of them threw.</summary>
internal static class Concurrently
{
    public static void Run(int threads, Action<int> body)
    {
        var errors = new ConcurrentQueue<Exception>();
        using var start = new Barrier(threads);
        var workers = new Thread[threads];
        for (int t = 0; t < threads; t++)
        {
            int id = t;
            workers[t] = new Thread(() =>
            {
                try
                {
                    start.SignalAndWait();
                    body(id);
                }
                catch (Exception ex)
                {
                    errors.Enqueue(ex);
                }
            }) { IsBackground = true, Name = $"worker {id}" };
            workers[t].Start();
        }
        foreach (Thread w in workers)
            Assert.True(w.Join(TimeSpan.FromMinutes(2)), $"{w.Name} did not finish.");
        if (!errors.IsEmpty)
            throw new AggregateException(errors);
    }
}
