using System.Collections.Concurrent;

namespace FastBuddy.Tests.PolicySupport;

/// <summary>What an owner callback was asked to do.</summary>
public enum CallbackKind
{
    Writeback,
    Evict,
}

/// <summary>One owner callback: which, on which page, on which thread, in which global order.</summary>
public readonly record struct CallbackEvent(CallbackKind Kind, nint Page, int ThreadId, long Sequence);

/// <summary>
/// A thread-safe <see cref="IPageOwner"/> that records every callback before running an optional hook.
/// Without hooks, Writeback reports the page clean and Evict does nothing.
/// </summary>
public sealed unsafe class RecordingOwner : IPageOwner
{
    private static long s_sequence;
    private readonly ConcurrentQueue<CallbackEvent> _events = new();
    private readonly ConcurrentDictionary<nint, int> _evictions = new();
    private int _writebacks;
    private int _evicts;

    /// <summary>Runs inside Writeback (after recording); its result is Writeback's. Null: true (clean now).</summary>
    public Func<nint, bool>? OnWriteback { get; set; }

    /// <summary>Runs inside Evict (after recording).</summary>
    public Action<nint>? OnEvict { get; set; }

    public int WritebackCount => Volatile.Read(ref _writebacks);
    public int EvictCount => Volatile.Read(ref _evicts);

    /// <summary>Every callback so far, in the order they started.</summary>
    public IReadOnlyList<CallbackEvent> Events => _events.OrderBy(e => e.Sequence).ToList();

    public IReadOnlyList<nint> Evicted => Events.Where(e => e.Kind == CallbackKind.Evict).Select(e => e.Page).ToList();
    public IReadOnlyList<nint> WrittenBack => Events.Where(e => e.Kind == CallbackKind.Writeback).Select(e => e.Page).ToList();

    /// <summary>How many times Evict was called for <paramref name="page"/>.</summary>
    public int EvictionsOf(nint page) => _evictions.TryGetValue(page, out int n) ? n : 0;

    bool IPageOwner.Writeback(void* page)
    {
        Interlocked.Increment(ref _writebacks);
        Record(CallbackKind.Writeback, (nint)page);
        return OnWriteback?.Invoke((nint)page) ?? true;
    }

    void IPageOwner.Evict(void* page)
    {
        Interlocked.Increment(ref _evicts);
        _evictions.AddOrUpdate((nint)page, 1, (_, n) => n + 1);
        Record(CallbackKind.Evict, (nint)page);
        OnEvict?.Invoke((nint)page);
    }

    private void Record(CallbackKind kind, nint page)
        => _events.Enqueue(new CallbackEvent(kind, page, Environment.CurrentManagedThreadId, Interlocked.Increment(ref s_sequence)));
}
