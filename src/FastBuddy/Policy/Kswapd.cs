using System.Diagnostics;
using FastBuddy.Buddy;
using FastBuddy.PerThread;
using FastBuddy.Diagnostics;

namespace FastBuddy.Policy;

/// <summary>
/// The background reclaimers: kswapd (balances free + clean pages against the watermarks, launders and ages) and
/// kreclaimd (refills a zone's free area from its clean pages), two roles sharing one thread per arena.
/// </summary>
/// <remarks>
/// The thread starts with the arena and runs in <see cref="ReclaimContext"/> (MemAlloc). Each time it wakes
/// (woken by the allocation path, or once a second from the start, so that an arena never under pressure still
/// gets its periodic pass) it decays memory_pressure, does kreclaimd's refill for zones that were below pages_min,
/// and, while there is a free or an inactive shortage, kswapd's pass (try_to_free_pages plus one aging scan),
/// going on without sleeping while both shortages remain and passes make progress. It also returns the per-CPU
/// lists of exited threads to the buddy system; an idle pass costs a few counter reads. Every finished pass
/// advances <see cref="Passes"/>, which wakes callers waiting for it. With
/// <see cref="ArenaOptions.BackgroundReclaim"/> off there is no thread and <see cref="RunPass"/> runs in the caller.
/// After a pass of the thread or of <see cref="BuddyArena.Balance"/> (not one an allocating caller runs for
/// itself) comes the <see cref="DecommitStep"/> when <see cref="ArenaOptions.DecommitAfter"/> is set; the thread
/// then starts with the arena, so that its once-a-second pass gives memory back even to an arena nobody wakes.
/// </remarks>
internal sealed class Kswapd
{
    private const int PeriodMilliseconds = 1000;

    private readonly BuddyArena _arena;
    private readonly Zone[] _zones;
    private readonly Reclaim _reclaim;
    private readonly MemoryPressure _pressure;
    private readonly ThreadMagazines _magazines;
    private readonly bool _background;
    private readonly DecommitStep? _decommit;
    private readonly object _gate = new();
    private readonly Thread? _thread;
    private bool _kswapdWanted, _kreclaimdWanted, _stopping;
    private volatile bool _lastPassProgressed;
    private long _wakeups, _passes;

    public Kswapd(BuddyArena arena, Zone[] zones, Reclaim reclaim, MemoryPressure pressure, ThreadMagazines magazines, bool background)
    {
        _magazines = magazines;
        _arena = arena;
        _zones = zones;
        _reclaim = reclaim;
        _pressure = pressure;
        _background = background;
        _decommit = DecommitStep.Create(arena, zones);
        if (background)
        {
            _thread = new Thread(Run) { IsBackground = true, Name = "FastBuddy kswapd" };
            FaultInjection.Hit(FaultPoint.ReclaimerStart); // a start that fails fails the arena's creation
            _thread.Start();
            if (arena.Logger is { } logger)
                ArenaLog.ReclaimerStarted(logger);
        }
    }

    /// <summary>Finished passes; callers waiting for "kswapd's pass" wait for it to advance.</summary>
    public WaitQueue Passes { get; } = new();

    public bool Background => _background;

    public bool LastPassProgressed => _lastPassProgressed;

    /// <summary>Wake-ups asked of the background thread (kswapd or kreclaimd); 0 without one.</summary>
    public long Wakeups => Interlocked.Read(ref _wakeups);

    /// <summary>kswapd passes run, in the background thread or in callers.</summary>
    public long PassCount => Interlocked.Read(ref _passes);

    public void WakeKswapd() => Wake(kswapd: true);

    public void WakeKreclaimd() => Wake(kswapd: false);

    private void Wake(bool kswapd)
    {
        if (!_background)
            return;
        lock (_gate)
        {
            if (_stopping)
                return;
            _wakeups++;
            if (kswapd)
                _kswapdWanted = true;
            else
                _kreclaimdWanted = true;
            Monitor.Pulse(_gate);
        }
    }

    /// <summary>
    /// wakeup_kswapd(1): wakes kswapd and waits for the end of its next pass, or the deadline. Returns whether that
    /// pass made progress. Without a background thread the pass runs here.
    /// </summary>
    public bool RunPassAndWait(long deadline)
    {
        if (!_background)
            return Pass() > 0;
        long seen = Passes.Sequence;
        WakeKswapd();
        return Passes.Wait(seen, deadline) && _lastPassProgressed;
    }

    /// <summary>
    /// One kswapd pass (plus kreclaimd's refill) and then the decommit step, in the calling thread: the background
    /// thread's pass and <see cref="BuddyArena.Balance"/>. Returns the reclaim progress.
    /// </summary>
    public long RunPass()
    {
        long progress = Pass();
        _decommit?.Run();
        return progress;
    }

    /// <summary>The pass without the decommit step: what an allocating caller runs when there is no thread.</summary>
    private long Pass()
    {
        long progress;
        using (ReclaimContext.Enter())
        {
            _pressure.Decay();
            progress = _magazines.DrainExited() + DrainForShortage() + Refill() + Balance();
        }
        _lastPassProgressed = progress > 0;
        Interlocked.Increment(ref _passes);
        Passes.Advance();
        return progress;
    }

    /// <summary>
    /// Parked blocks and the threads' slabs go back, and the slab caches' empty slabs are reaped, before any host
    /// page is evicted for a free shortage (2.4's <c>kmem_cache_reap</c> in <c>do_try_to_free_pages</c>).
    /// </summary>
    private long DrainForShortage()
    {
        if (_pressure.FreeShortage() <= 0)
            return 0;
        long pages = HasParked() || _magazines.Slabs is not null ? _magazines.DrainAll() : 0;
        return pages + (_magazines.Slabs?.Caches.ReapSpares() ?? 0);
    }

    private bool HasParked()
    {
        foreach (Zone zone in _zones)
        {
            if (_magazines.ParkedPages(zone.Index) > 0)
                return true;
        }
        return false;
    }

    private long Refill()
    {
        long freed = 0;
        foreach (Zone zone in _zones)
        {
            if (Volatile.Read(ref zone.FreePages) < zone.PagesLow)
                freed += _reclaim.RefillFreeArea(zone);
        }
        return freed;
    }

    private long Balance()
    {
        long total = 0;
        while (!_arena.IsDisposed && (_pressure.FreeShortage() > 0 || _pressure.InactiveShortage() > 0))
        {
            long progress = _reclaim.TryToFreePages(mayIo: true);
            foreach (Zone zone in _zones)
                Reclaim.AgeScan(zone, priority: 6, wanted: long.MaxValue);
            progress += Refill();
            total += progress;
            bool both = _pressure.FreeShortage() > 0 && _pressure.InactiveShortage() > 0;
            if (progress == 0 || !both)
                break;
        }
        return total;
    }

    private void Run()
    {
        long lastPeriod = Stopwatch.GetTimestamp();
        while (true)
        {
            lock (_gate)
            {
                while (!_stopping && !_kswapdWanted && !_kreclaimdWanted)
                {
                    long elapsedMs = (long)Stopwatch.GetElapsedTime(lastPeriod).TotalMilliseconds;
                    if (elapsedMs >= PeriodMilliseconds)
                        break;
                    Monitor.Wait(_gate, (int)(PeriodMilliseconds - elapsedMs));
                }
                if (_stopping)
                    return;
                _kswapdWanted = false;
                _kreclaimdWanted = false;
            }
            if (Stopwatch.GetElapsedTime(lastPeriod).TotalMilliseconds >= PeriodMilliseconds)
                lastPeriod = Stopwatch.GetTimestamp();
            RunPass();
        }
    }

    /// <summary>Stops the thread promptly (it finishes the callback it is in) and wakes everyone waiting for a pass.</summary>
    public void Stop()
    {
        Thread? thread;
        lock (_gate)
        {
            _stopping = true;
            thread = _thread;
            Monitor.PulseAll(_gate);
        }
        Passes.Close();
        if (thread is not null && thread != Thread.CurrentThread)
            thread.Join();
        if (thread is not null && _arena.Logger is { } logger)
            ArenaLog.ReclaimerStopped(logger, PassCount);
    }
}
