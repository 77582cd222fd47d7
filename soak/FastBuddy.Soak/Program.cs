using System.Collections.Concurrent;
using System.Diagnostics;
using FastBuddy;
using FastBuddy.Soak;

// The soak: two arenas (background reclaim on, off) under a mixed workload of short-lived threads with a page
// cache, for a set time; samples resident memory and the per-thread registry, validates periodically, and ends with
// every page accounted for. Not part of the test command: run it with soak/run.sh --minutes N.
int minutes = 10, seconds = 0, threads = 3, perCpuPages = new ArenaOptions().PerCpuPages;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--minutes" when i + 1 < args.Length: minutes = int.Parse(args[++i]); break;
        case "--seconds" when i + 1 < args.Length: minutes = 0; seconds = int.Parse(args[++i]); break;
        case "--threads" when i + 1 < args.Length: threads = int.Parse(args[++i]); break;
        case "--per-cpu-pages" when i + 1 < args.Length: perCpuPages = int.Parse(args[++i]); break;
        default:
            Console.Error.WriteLine("usage: FastBuddy.Soak [--minutes N | --seconds N] [--threads PER_ARENA] [--per-cpu-pages N (0: no magazines)]");
            return 2;
    }
}
TimeSpan duration = minutes > 0 ? TimeSpan.FromMinutes(minutes) : TimeSpan.FromSeconds(seconds);
return new Soak(duration, threads, perCpuPages).Run();

/// <summary>The soak run: arenas, supervisors, the monitor and the summary.</summary>
internal sealed class Soak(TimeSpan duration, int threadsPerArena, int perCpuPages)
{
    private const int ValidateEveryMs = 5000;
    private static readonly int ReportEveryMs = int.TryParse(Environment.GetEnvironmentVariable("SOAK_REPORT_MS"), out int ms) ? ms : 60_000;
    private readonly List<Lane> _lanes = [];
    private readonly List<(double Seconds, long RssBytes, int Registry)> _samples = [];
    private volatile bool _stopping;

    private sealed class Lane(string name, BuddyArena arena)
    {
        public string Name { get; } = name;
        public BuddyArena Arena { get; } = arena;
        public Counters Counters { get; } = new();
        public SoakOwner Owner => _owner ??= new SoakOwner(Counters);
        private SoakOwner? _owner;
        public ConcurrentQueue<Block> Handoff { get; } = new();
        public PauseGate Gate { get; } = new();
        public ConcurrentDictionary<Worker, byte> Workers { get; } = new();
        public Thread? Supervisor { get; set; }
    }

    public int Run()
    {
        _lanes.Add(new Lane("background-reclaim", NewArena(background: true, perCpuPages)));
        _lanes.Add(new Lane("caller-reclaim", NewArena(background: false, perCpuPages)));
        var clock = Stopwatch.StartNew();
        foreach (Lane lane in _lanes)
        {
            lane.Supervisor = new Thread(() => Supervise(lane)) { Name = $"soak {lane.Name}" };
            lane.Supervisor.Start();
        }
        Console.WriteLine($"soak: {duration.TotalMinutes:0.#} min, {threadsPerArena} threads per arena, per-thread lists of {perCpuPages} pages, arenas: {string.Join(", ", _lanes.Select(l => l.Name))}");
        long nextValidate = ValidateEveryMs, nextReport = ReportEveryMs;
        while (clock.Elapsed < duration)
        {
            Thread.Sleep(1000);
            Sample(clock.Elapsed.TotalSeconds);
            if (clock.ElapsedMilliseconds >= nextValidate)
            {
                ValidateAll();
                nextValidate += ValidateEveryMs;
            }
            if (clock.ElapsedMilliseconds >= nextReport)
            {
                Progress(clock.Elapsed);
                nextReport += ReportEveryMs;
            }
        }
        _stopping = true;
        foreach (Lane lane in _lanes)
            lane.Supervisor!.Join();
        bool accounted = Finish();
        return Summary(clock.Elapsed, accounted);
    }

    private static BuddyArena NewArena(bool background, int perCpuPages)
    {
        var options = new ArenaOptions
        {
            BackgroundReclaim = background,
            AllocWaitTimeout = TimeSpan.FromMilliseconds(50),
            PerCpuPages = perCpuPages,
        };
        options.Zones.Add(new ZoneOptions("DMA", 8 << 20));
        options.Zones.Add(new ZoneOptions("Normal", 24 << 20));
        return new BuddyArena(options);
    }

    /// <summary>Keeps <see cref="threadsPerArena"/> workers alive; each lives for a random number of operations.</summary>
    private void Supervise(Lane lane)
    {
        var random = new Random(lane.Name.Length * 7919);
        var alive = new List<Thread>();
        while (!_stopping)
        {
            alive.RemoveAll(t => !t.IsAlive);
            while (alive.Count < threadsPerArena && !_stopping)
            {
                int seed = random.Next();
                int operations = random.Next(2_000, 200_000);
                // Budgets of 256 to 3071 pages (blocks plus cache pages): three threads want from 9% to 112% of the arena,
                // so calm stretches alternate with reclaim of the page cache and allocations that fail.
                var worker = new Worker(lane.Arena, lane.Owner, lane.Handoff, lane.Counters, seed) { Budget = random.Next(256, 3072) };
                var thread = new Thread(() => RunWorker(lane, worker, operations)) { IsBackground = true };
                Interlocked.Increment(ref lane.Counters.ThreadsStarted);
                long now = Interlocked.Increment(ref lane.Counters.ThreadsAlive);
                if (now > lane.Counters.MaxThreadsAlive)
                    lane.Counters.MaxThreadsAlive = now;
                thread.Start();
                alive.Add(thread);
            }
            Thread.Sleep(5);
        }
        foreach (Thread t in alive)
            t.Join();
    }

    private void RunWorker(Lane lane, Worker worker, int operations)
    {
        lane.Workers[worker] = 0;
        try
        {
            worker.Run(operations, () => _stopping, lane.Gate);
        }
        catch (Exception e)
        {
            lane.Counters.Error($"worker threw {e.GetType().Name}: {e.Message} at {TopFrames(e)}");
        }
        finally
        {
            lane.Workers.TryRemove(worker, out _);
            Interlocked.Decrement(ref lane.Counters.ThreadsAlive);
        }
    }

    /// <summary>The first frames of an exception's stack, on one line (enough to find the code that threw).</summary>
    private static string TopFrames(Exception e)
        => string.Join(" < ", (e.StackTrace ?? "").Split('\n', StringSplitOptions.TrimEntries).Take(3));

    private void Sample(double seconds)
    {
        int registry = 0;
        foreach (Lane lane in _lanes)
        {
            int r = lane.Arena.Policy.Magazines.ThreadCount;
            lane.Counters.MaxRegistry = Math.Max(lane.Counters.MaxRegistry, r);
            registry += r;
        }
        _samples.Add((seconds, ResidentBytes(), registry));
    }

    /// <summary>Resident set size from /proc/self/statm (its second field, in pages).</summary>
    private static long ResidentBytes()
    {
        string[] fields = File.ReadAllText("/proc/self/statm").Split(' ');
        return long.Parse(fields[1]) * Environment.SystemPageSize;
    }

    /// <summary>
    /// Every few seconds, per arena: Validate while its workers run (the call must be safe at any time), then with
    /// its workers stopped at the gate, Validate again and count every page: free + parked + cached + the host's
    /// blocks + the blocks in flight between threads = total. Only kswapd may run meanwhile, and only in the
    /// background-reclaim arena, where a page it is evicting is counted nowhere for a moment: there the count
    /// may fall short by its pages in flight, never exceed the total.
    /// </summary>
    private void ValidateAll()
    {
        foreach (Lane lane in _lanes)
        {
            Counters c = lane.Counters;
            try
            {
                lane.Arena.Validate();
                Interlocked.Increment(ref c.ConcurrentValidations);
            }
            catch (FastBuddyException e)
            {
                Interlocked.Increment(ref c.ConcurrentValidateReports);
                if (c.ConcurrentReports.Count < 20)
                    c.ConcurrentReports.Enqueue(e.Message);
            }
            lane.Gate.Pause(() => Interlocked.Read(ref c.ThreadsAlive));
            try
            {
                lane.Arena.Validate();
                Interlocked.Increment(ref c.Validations);
                CountPages(lane);
            }
            catch (Exception e)
            {
                c.Error($"Validate with the workers stopped failed: {e.Message}");
            }
            finally
            {
                lane.Gate.Resume();
            }
        }
    }

    private static void CountPages(Lane lane)
    {
        ArenaStats s = lane.Arena.GetStats();
        long host = lane.Workers.Keys.Sum(w => (long)w.HeldPages()) + lane.Handoff.Sum(b => (long)b.HeldPages);
        long cachedByHost = lane.Workers.Keys.Sum(w => (long)w.CachedPages);
        long cached = s.ActivePages + s.InactiveDirtyPages + s.InactiveCleanPages;
        // The host's cached pages are counted once, as cached: HeldPages includes them. Its slab objects live in
        // slab pages (SlabPages, with the slabs' free objects and the spares); its blocks are its own.
        long counted = s.FreePages + s.PerCpuPages + s.SlabPages + cached + host - cachedByHost;
        bool exact = !lane.Arena.Options.BackgroundReclaim;
        if (counted > s.TotalPages || (exact && (counted != s.TotalPages || cached != cachedByHost)))
            lane.Counters.Error($"pages: free {s.FreePages} + parked {s.PerCpuPages} + slab {s.SlabPages} + cached {cached} + host {host - cachedByHost} = {counted}, total {s.TotalPages} (host cached {cachedByHost})");
        else
            Interlocked.Increment(ref lane.Counters.PageCounts);
    }

    private void Progress(TimeSpan elapsed)
    {
        var (_, rss, registry) = _samples[^1];
        Console.WriteLine($"[{elapsed:mm\\:ss}] rss {rss >> 20} MiB, registry {registry}, " + string.Join("; ", _lanes.Select(l =>
            Snapshot(l))));
    }

    private static string Snapshot(Lane l)
    {
        ArenaStats s = l.Arena.GetStats();
        return $"{l.Name}: {l.Counters.Operations} ops, {l.Counters.ThreadsStarted} threads, free {s.FreePages} parked {s.PerCpuPages} "
            + $"cached {s.ActivePages + s.InactiveDirtyPages + s.InactiveCleanPages} of {s.TotalPages}, {l.Owner.Evictions} evicted, {l.Counters.ErrorCount} errors";
    }

    /// <summary>Frees the hand-off queues, lets kswapd retire the exited threads' lists, validates, and checks free == total.</summary>
    private bool Finish()
    {
        bool all = true;
        foreach (Lane lane in _lanes)
        {
            while (lane.Handoff.TryDequeue(out Block b))
                FreeLeftover(lane, b);
            lane.Arena.Balance();
            lane.Arena.Validate();
            lane.Arena.Trim(); // the spare slabs (and any slab the main thread adopted freeing leftovers) back too
            Interlocked.Increment(ref lane.Counters.Validations);
            ArenaStats s = lane.Arena.GetStats();
            bool ok = s.FreePages == s.TotalPages && s.PerCpuPages == 0 && lane.Owner.CachedCount == 0 && s.SlabObjects == 0
                && s.ActivePages + s.InactiveDirtyPages + s.InactiveCleanPages == 0;
            if (!ok)
                lane.Counters.Error($"{lane.Name}: free {s.FreePages} of {s.TotalPages}, parked {s.PerCpuPages}, cached {s.ActivePages + s.InactiveDirtyPages + s.InactiveCleanPages}, owner {lane.Owner.CachedCount}");
            all &= ok;
        }
        return all;
    }

    private static unsafe void FreeLeftover(Lane lane, Block b)
    {
        if (!b.Check(lane.Arena.PageSize))
            lane.Counters.Error($"hand-off block {b.Id} lost its contents");
        if (b.What != Block.Kind.Pages)
            lane.Arena.Free((void*)b.Address);
        else
            lane.Arena.FreePages((void*)b.Address, b.Order);
        Interlocked.Increment(ref lane.Counters.Frees);
    }

    private int Summary(TimeSpan elapsed, bool accounted)
    {
        int errors = _lanes.Sum(l => l.Counters.ErrorCount);
        long[] rss = [.. _samples.Select(s => s.RssBytes)];
        int minute = Math.Min(60, _samples.Count);
        double firstMinute = _samples.Take(minute).Average(s => s.RssBytes) / (1 << 20);
        double lastMinute = _samples.Skip(_samples.Count - minute).Average(s => s.RssBytes) / (1 << 20);
        Console.WriteLine();
        Console.WriteLine("==== FastBuddy soak summary ====");
        Console.WriteLine($"duration              {elapsed.TotalSeconds:0} s ({_samples.Count} samples, Validate every {ValidateEveryMs / 1000} s)");
        foreach (Lane l in _lanes)
        {
            Counters c = l.Counters;
            ArenaStats s = l.Arena.GetStats();
            Console.WriteLine($"arena {l.Name,-19} {s.TotalPages} pages in {s.Zones.Count} zones");
            Console.WriteLine($"  threads             {c.ThreadsStarted} started and exited (at most {c.MaxThreadsAlive} at once); registry max {c.MaxRegistry}, after {l.Arena.Policy.Magazines.ThreadCount}");
            Console.WriteLine($"  operations          {c.Operations} ({c.Allocations} allocations, {c.Frees} frees, {c.FailedAllocations} NULL with NoMemory)");
            Console.WriteLine($"  page cache          {c.CacheAdds} added, {c.RemovesLostToEvict} removes lost to an Evict, {l.Owner.Writebacks} writebacks ({l.Owner.LateWritebacks} found the page removed), {l.Owner.Evictions} evicted, {s.Reclaimed} reclaimed, {s.Laundered} laundered");
            Console.WriteLine($"  policy steps        fast {s.Steps.FastPath}, high {s.Steps.High}, low {s.Steps.Low}, min {s.Steps.Min}, direct {s.Steps.DirectReclaim}, higher-order {s.Steps.HigherOrderReclaim}, final {s.Steps.FinalPhase}, failed {s.Steps.Failed}");
            Console.WriteLine($"  validate            {c.Validations} passed with the workers stopped, {c.PageCounts} page counts right; while they ran: {c.ConcurrentValidations} passed, {c.ConcurrentValidateReports} reported");
            foreach (string report in c.ConcurrentReports.Take(3))
                Console.WriteLine($"    while running: {report}");
            Console.WriteLine($"  end                 free {s.FreePages} of {s.TotalPages}, parked {s.PerCpuPages}, cached {s.ActivePages + s.InactiveDirtyPages + s.InactiveCleanPages}, slab {s.SlabPages} pages");
            Console.WriteLine($"  errors              {c.ErrorCount} (of which the owner saw {l.Owner.Errors})");
        }
        Console.WriteLine($"resident memory       min {rss.Min() >> 20} MiB, max {rss.Max() >> 20} MiB; first minute {firstMinute:0.0} MiB, last minute {lastMinute:0.0} MiB");
        Console.WriteLine($"every page accounted  {(accounted ? "yes" : "NO")}");
        foreach (string e in _lanes.SelectMany(l => l.Counters.Errors).Take(20))
            Console.WriteLine($"  error: {e}");
        bool pass = accounted && errors == 0;
        Console.WriteLine($"RESULT                {(pass ? "PASS" : "FAIL")}");
        foreach (Lane l in _lanes)
            l.Arena.Dispose();
        return pass ? 0 : 1;
    }
}
