using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using FastBuddy.Buddy;

namespace FastBuddy.Benchmarks.Facts;

/// <summary>
/// Measurements that are not BenchmarkDotNet timings: metadata overhead, arena creation time, fragmentation and the
/// memory efficiency of small objects (<see cref="SmallObjectFacts"/>).
/// <c>dotnet run -c Release --project bench/FastBuddy.Benchmarks -- facts [options]</c> prints them as markdown.
/// </summary>
public static unsafe class FactsRunner
{
    private const int PageSize = 4096;

    /// <summary>Relative weights of orders 0..10 for the first fragmentation workload (sum 100).</summary>
    private static readonly int[] AllOrdersWeights = [40, 14, 10, 8, 7, 6, 5, 4, 3, 2, 1];

    /// <summary>The second workload: small blocks only (orders 0..3), the case that scatters free pages most.</summary>
    private static readonly int[] SmallOrdersWeights = [60, 20, 12, 8];

    public sealed class Options
    {
        public int ArenaMiB = 1024;
        public int Creates = 20;
        public int FragmentationMiB = 256;
        public int Ops = 100_000;
        public int Seed = 42;
        public double Held = 0.5;
        public int MixedObjects = 300_000;
        public int TinyObjects = 1_000_000;
        public string? Out;
    }

    public static int Run(string[] args)
    {
        Options o;
        try
        {
            o = Parse(args);
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine(e.Message);
            Console.Error.WriteLine("usage: facts [--arena-mib N (1024)] [--creates N (20)] [--frag-mib N (256)] [--ops N (100000)] [--seed N (42)] [--held F (0.5)] [--mixed-objects N (300000)] [--tiny-objects N (1000000)] [--out FILE]");
            return 2;
        }
        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"# FastBuddy facts");
        md.AppendLine();
        md.AppendLine(
            $"{RuntimeInformation.FrameworkDescription}, {RuntimeInformation.OSDescription}, {Environment.ProcessorCount} logical CPUs; " +
            $"args: `--arena-mib {o.ArenaMiB} --creates {o.Creates} --frag-mib {o.FragmentationMiB} --ops {o.Ops} --seed {o.Seed} --held {o.Held.ToString(CultureInfo.InvariantCulture)} " +
            $"--mixed-objects {o.MixedObjects} --tiny-objects {o.TinyObjects}`");
        md.AppendLine();
        Metadata(md, o);
        Creation(md, o);
        md.AppendLine("## Fragmentation");
        md.AppendLine();
        Fragmentation(md, o, AllOrdersWeights, "Workload A, every order");
        Fragmentation(md, o, SmallOrdersWeights, "Workload B, small blocks only");
        SmallObjectFacts.Write(md, o.MixedObjects, o.TinyObjects, o.Seed);
        string text = md.ToString();
        Console.Write(text);
        if (o.Out is not null)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(o.Out))!);
            File.WriteAllText(o.Out, text);
        }
        return 0;
    }

    private static Options Parse(string[] args)
    {
        var o = new Options();
        for (int i = 0; i < args.Length; i++)
        {
            string value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--arena-mib": o.ArenaMiB = PositiveInt(args[i], value); break;
                case "--creates": o.Creates = PositiveInt(args[i], value); break;
                case "--frag-mib": o.FragmentationMiB = PositiveInt(args[i], value); break;
                case "--ops": o.Ops = PositiveInt(args[i], value); break;
                case "--seed": o.Seed = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--held":
                    o.Held = double.Parse(value, CultureInfo.InvariantCulture);
                    if (o.Held is <= 0 or >= 1)
                        throw new ArgumentException("--held must be between 0 and 1");
                    break;
                case "--mixed-objects": o.MixedObjects = PositiveInt(args[i], value); break;
                case "--tiny-objects": o.TinyObjects = PositiveInt(args[i], value); break;
                case "--out": o.Out = value; break;
                default: throw new ArgumentException($"unknown option {args[i]}");
            }
            i++;
        }
        return o;
    }

    private static int PositiveInt(string name, string value)
        => int.TryParse(value, CultureInfo.InvariantCulture, out int n) && n > 0 ? n : throw new ArgumentException($"{name} needs a positive integer, got {value}");

    internal static string Bytes(double b)
        => b >= 1 << 20 ? $"{b / (1 << 20):0.##} MiB" : b >= 1 << 10 ? $"{b / (1 << 10):0.##} KiB" : $"{b:0} B";

    // ------------------------------------------------------------------ metadata

    private static void Metadata(StringBuilder md, Options o)
    {
        nuint arenaBytes = (nuint)o.ArenaMiB << 20;
        long before = GC.GetAllocatedBytesForCurrentThread();
        using var arena = new BuddyArena(new ArenaOptions { ArenaBytes = arenaBytes, PageSize = PageSize, BackgroundReclaim = false });
        long managed = GC.GetAllocatedBytesForCurrentThread() - before;
        long pages = 0, descriptors = 0, metadata = 0;
        foreach (Zone zone in arena.Zones)
        {
            pages += zone.Pages;
            metadata += zone.MetadataBytes;
        }
        descriptors = pages * sizeof(PageDescriptor);

        // One thread's per-CPU lists (and its thread state), created by its first allocation in this arena.
        long perThread = 0;
        var t = new Thread(() =>
        {
            long b = GC.GetAllocatedBytesForCurrentThread();
            arena.FreePages(arena.AllocPages(0, AllocFlags.Atomic), 0);
            perThread = GC.GetAllocatedBytesForCurrentThread() - b;
        });
        t.Start();
        t.Join();

        double a = arenaBytes;
        md.AppendLine("## Metadata");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Arena of {Bytes(a)}, one zone, 4 KiB pages ({pages} pages), default options.");
        md.AppendLine();
        md.AppendLine("| what | bytes | per page | % of the arena |");
        md.AppendLine("|---|---:|---:|---:|");
        md.AppendLine(CultureInfo.InvariantCulture, $"| page descriptors ({sizeof(PageDescriptor)} B each) | {descriptors:N0} | {(double)descriptors / pages:0.##} B | {100 * descriptors / a:0.000} % |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| merge bitmaps | {metadata - descriptors:N0} | {(double)(metadata - descriptors) / pages:0.##} B | {100 * (metadata - descriptors) / a:0.000} % |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| **zone metadata (`Zone.MetadataBytes`)** | **{metadata:N0}** | **{(double)metadata / pages:0.##} B** | **{100 * metadata / a:0.000} %** |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| everything the constructor allocated on the managed heap (metadata + objects) | {managed:N0} | {(double)managed / pages:0.##} B | {100 * managed / a:0.000} % |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| per-CPU lists of one thread (allocated by its first allocation) | {perThread:N0} | | {100 * perThread / a:0.0000} % per thread |");
        md.AppendLine();
        md.AppendLine("The arena's own memory comes from `NativeMemory.AlignedAlloc` and is not touched by the bookkeeping; " +
                      "the metadata lives in pinned managed arrays (descriptors, bitmaps).");
        md.AppendLine();
    }

    // ------------------------------------------------------------------ creation time

    private static void Creation(StringBuilder md, Options o)
    {
        nuint bytes = (nuint)o.ArenaMiB << 20;
        md.AppendLine("## Arena creation");
        md.AppendLine();
        md.AppendLine(
            $"{Bytes(bytes)} arena, 4 KiB pages, default options but BackgroundReclaim as shown; median of {o.Creates} creates " +
            "(after 2 unmeasured), each followed by Dispose; Stopwatch; no pre-faulting (the arena memory is reserved, never touched). " +
            "\"first pair\" is the first AllocPages(0) + FreePages on the new arena (it creates the thread's per-CPU lists).");
        md.AppendLine();
        md.AppendLine("| BackgroundReclaim | create: median | min | max | first pair: median | Dispose: median |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|");
        foreach (bool background in new[] { false, true })
        {
            var create = new List<double>();
            var first = new List<double>();
            var dispose = new List<double>();
            for (int i = -2; i < o.Creates; i++)
            {
                long t0 = Stopwatch.GetTimestamp();
                var arena = new BuddyArena(new ArenaOptions { ArenaBytes = bytes, PageSize = PageSize, BackgroundReclaim = background });
                long t1 = Stopwatch.GetTimestamp();
                arena.FreePages(arena.AllocPages(0, AllocFlags.Atomic), 0);
                long t2 = Stopwatch.GetTimestamp();
                arena.Dispose();
                long t3 = Stopwatch.GetTimestamp();
                if (i < 0)
                    continue;
                create.Add(Stopwatch.GetElapsedTime(t0, t1).TotalMilliseconds);
                first.Add(Stopwatch.GetElapsedTime(t1, t2).TotalMilliseconds);
                dispose.Add(Stopwatch.GetElapsedTime(t2, t3).TotalMilliseconds);
            }
            md.AppendLine(CultureInfo.InvariantCulture,
                $"| {(background ? "true" : "false")} | **{Median(create):0.000} ms** | {create.Min():0.000} ms | {create.Max():0.000} ms | {Median(first) * 1000:0.0} µs | {Median(dispose):0.000} ms |");
        }
        md.AppendLine();
    }

    private static double Median(List<double> values)
    {
        var s = values.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }

    // ------------------------------------------------------------------ fragmentation

    private static void Fragmentation(StringBuilder md, Options o, int[] weights, string title)
    {
        nuint bytes = (nuint)o.FragmentationMiB << 20;
        using var arena = new BuddyArena(new ArenaOptions { ArenaBytes = bytes, PageSize = PageSize, BackgroundReclaim = false });
        int maxOrder = Math.Min(arena.MaxOrder, weights.Length);
        int weightSum = weights.Take(maxOrder).Sum();
        long totalPages = arena.GetStats().TotalPages;
        long target = (long)(totalPages * o.Held);
        var rng = new Random(o.Seed);
        var live = new List<(nint Block, int Order)>();
        long held = 0, allocs = 0, frees = 0;
        var failures = new long[maxOrder];
        var requests = new long[maxOrder];
        for (int op = 0; op < o.Ops; op++)
        {
            bool alloc = live.Count == 0 || rng.NextDouble() < (held < target ? 0.9 : 0.1);
            if (alloc)
            {
                int r = rng.Next(weightSum), order = 0;
                while (r >= weights[order])
                    r -= weights[order++];
                requests[order]++;
                void* p = arena.AllocPages(order, AllocFlags.Atomic);
                if (p == null)
                {
                    failures[order]++;
                    continue;
                }
                live.Add(((nint)p, order));
                held += 1L << order;
                allocs++;
            }
            else
            {
                int i = rng.Next(live.Count);
                (nint block, int order) = live[i];
                live[i] = live[^1];
                live.RemoveAt(live.Count - 1);
                arena.FreePages((void*)block, order);
                held -= 1L << order;
                frees++;
            }
        }
        ArenaStats busy = arena.GetStats();
        foreach ((nint block, int order) in live)
            arena.FreePages((void*)block, order);
        ArenaStats freed = arena.GetStats();
        arena.Validate(); // also drains every per-CPU list back into the buddy system
        ArenaStats drained = arena.GetStats();

        md.AppendLine(CultureInfo.InvariantCulture, $"### {title}: orders 0..{maxOrder - 1}");
        md.AppendLine();
        md.AppendLine(
            $"{Bytes(bytes)} arena ({totalPages} pages of 4 KiB, MaxOrder {arena.MaxOrder}), BackgroundReclaim off, default per-CPU lists. " +
            $"Seeded workload (seed {o.Seed}): {o.Ops:N0} operations; each allocates (flags Atomic) a block of a random order 0..{maxOrder - 1} " +
            $"(weights {string.Join("/", weights.Take(maxOrder))} %) or frees a random live block, holding about {o.Held:P0} of the pages " +
            $"(allocate with probability 0.9 below that, 0.1 above). {allocs:N0} allocations, {frees:N0} frees, " +
            $"{failures.Sum():N0} failed allocations; {live.Count:N0} blocks ({held:N0} pages, {100.0 * held / totalPages:0.0} %) held at the end.");
        md.AppendLine();
        md.AppendLine("| state | free pages | per-CPU pages | largest free order (block) | largest possible for that many free pages |");
        md.AppendLine("|---|---:|---:|---|---|");
        Row(md, "after the workload (blocks held)", busy);
        Row(md, "after freeing every held block", freed);
        Row(md, "after Validate() (drains the per-CPU lists)", drained);
        md.AppendLine();
        md.AppendLine("Free blocks per order:");
        md.AppendLine();
        md.AppendLine("| order | block | after the workload | after freeing all | after Validate() | requests | failed |");
        md.AppendLine("|---:|---:|---:|---:|---:|---:|---:|");
        for (int order = 0; order < arena.MaxOrder; order++)
        {
            string req = order < maxOrder ? requests[order].ToString("N0", CultureInfo.InvariantCulture) : "";
            string fail = order < maxOrder ? failures[order].ToString("N0", CultureInfo.InvariantCulture) : "";
            md.AppendLine(CultureInfo.InvariantCulture,
                $"| {order} | {Bytes((double)PageSize * (1L << order))} | {Blocks(busy, order)} | {Blocks(freed, order)} | {Blocks(drained, order)} | {req} | {fail} |");
        }
        md.AppendLine();
    }

    private static long Blocks(ArenaStats s, int order) => s.Zones.Sum(z => z.FreeBlocks[order]);

    private static void Row(StringBuilder md, string state, ArenaStats s)
    {
        int largest = -1;
        for (int order = s.Zones[0].FreeBlocks.Count - 1; order >= 0 && largest < 0; order--)
        {
            if (Blocks(s, order) > 0)
                largest = order;
        }
        int maxOrder = s.Zones[0].FreeBlocks.Count;
        int ideal = s.FreePages > 0 ? Math.Min(maxOrder - 1, (int)Math.Log2(s.FreePages)) : -1;
        string Largest(int order) => order < 0 ? "none" : $"{order} ({Bytes((double)PageSize * (1L << order))})";
        md.AppendLine(CultureInfo.InvariantCulture, $"| {state} | {s.FreePages:N0} | {s.PerCpuPages:N0} | {Largest(largest)} | {Largest(ideal)} |");
    }
}
