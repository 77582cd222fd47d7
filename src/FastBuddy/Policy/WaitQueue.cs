using System.Diagnostics;
using FastBuddy.Diagnostics;

namespace FastBuddy.Policy;

/// <summary>
/// A wait queue with a sequence number: <see cref="Signal"/> wakes every waiter, <see cref="Wait"/> sleeps until
/// the next signal, a deadline, or <see cref="Close"/>.
/// </summary>
/// <remarks>
/// Signalling is a single volatile read while nobody waits, so the free path can call it every time. Waits sleep
/// in short slices and re-check, so a signal that raced with a waiter's registration costs at most one slice.
/// </remarks>
internal sealed class WaitQueue
{
    private const int SliceMilliseconds = 20;

    private readonly object _gate = new();
    private readonly Action? _waitersChanged;
    private long _sequence;
    private int _waiters;
    private volatile bool _closed;

    /// <param name="waitersChanged">Called after the first waiter comes and after the last one goes.</param>
    public WaitQueue(Action? waitersChanged = null) => _waitersChanged = waitersChanged;

    public bool IsClosed => _closed;

    /// <summary>Someone waits (or is about to): frees should reach the zones and signal, not be parked.</summary>
    public bool HasWaiters => Volatile.Read(ref _waiters) != 0;

    /// <summary>Announces a waiter before its last look, so that no signal between that look and the wait is missed.</summary>
    public void Register()
    {
        if (Interlocked.Increment(ref _waiters) == 1)
            _waitersChanged?.Invoke();
    }

    public void Unregister()
    {
        if (Interlocked.Decrement(ref _waiters) == 0)
            _waitersChanged?.Invoke();
    }

    public long Sequence => Volatile.Read(ref _sequence);

    public void Signal()
    {
        if (Volatile.Read(ref _waiters) == 0)
            return;
        SignalSlow();
    }

    private void SignalSlow()
    {
        lock (_gate)
        {
            _sequence++;
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>Signals even when nobody waits (sequence observers such as kswapd's pass counter).</summary>
    public void Advance() => SignalSlow();

    /// <summary>Wakes every waiter for good; later waits return false at once.</summary>
    public void Close()
    {
        _closed = true;
        SignalSlow();
    }

    /// <summary>
    /// Waits until the sequence moves past <paramref name="seen"/>; false at the deadline (a
    /// <see cref="Stopwatch"/> timestamp, <see cref="long.MaxValue"/> for none) or when closed.
    /// </summary>
    public bool Wait(long seen, long deadline)
    {
        Register();
        try
        {
            while (!_closed)
            {
                if (Volatile.Read(ref _sequence) != seen)
                    return true;
                long now = Stopwatch.GetTimestamp();
                if (now >= deadline)
                    return false;
                long remainingMs = deadline == long.MaxValue ? SliceMilliseconds
                    : (long)((deadline - now) * 1000.0 / Stopwatch.Frequency) + 1;
                SchedulePoints.Spin(SchedulePoints.AllocationWaiting);
                lock (_gate)
                {
                    if (Volatile.Read(ref _sequence) == seen && !_closed)
                        Monitor.Wait(_gate, (int)Math.Min(remainingMs, SliceMilliseconds));
                }
            }
            return false;
        }
        finally
        {
            Unregister();
        }
    }
}
