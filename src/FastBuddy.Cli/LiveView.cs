using System.Diagnostics;
using System.Globalization;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace FastBuddy.Cli;

// Shows the zones while a phase runs. Three kinds: Spectre's live display on a terminal (a table of the zones
// redrawn as the workload goes, with a progress bar), plain text lines when the output is not a terminal (one line
// per quarter of the phase), or nothing (--live off, --json).
internal abstract class LiveView
{
    public abstract void Run(Phase phase, int number, int count, Workload workload);

    public static LiveView Choose(string mode, TextWriter output, BuddyArena arena)
    {
        bool terminal = ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected
                        && AnsiConsole.Profile.Capabilities.Interactive && AnsiConsole.Profile.Capabilities.Ansi;
        return mode switch
        {
            "off" => new NoLiveView(),
            "plain" => new PlainLiveView(output, arena),
            _ => terminal ? new SpectreLiveView(AnsiConsole.Console, arena) : new PlainLiveView(output, arena),
        };
    }

    // One zone in a few words: "DMA free 3712 pcp 40 lru 12/0/0".
    protected static string ZoneLine(ZoneStats z)
        => string.Create(CultureInfo.InvariantCulture,
            $"{z.Name} free {z.FreePages} pcp {z.PerCpuPages} lru {z.ActivePages}/{z.InactiveDirtyPages}/{z.InactiveCleanPages}");
}

internal sealed class NoLiveView : LiveView
{
    public override void Run(Phase phase, int number, int count, Workload workload) => phase.Run(workload);
}

// The fallback: "live  cache   50% [##########..........] DMA free ... | Normal free ...", one line per quarter.
internal sealed class PlainLiveView(TextWriter output, BuddyArena arena) : LiveView
{
    public const int BarWidth = 20;

    public override void Run(Phase phase, int number, int count, Workload workload)
    {
        var reporter = new QuarterReporter(output, arena, phase.Name);
        workload.Progress = reporter;
        phase.Run(workload);
        reporter.Report(1, 1);
        workload.Progress = SilentProgress.Instance;
    }

    private sealed class QuarterReporter(TextWriter output, BuddyArena arena, string phase) : IPhaseProgress
    {
        private int _printed;

        public void Report(long done, long total)
        {
            int quarter = total <= 0 ? 4 : (int)Math.Min(4, done * 4 / total);
            if (quarter <= _printed)
                return;
            _printed = quarter;
            int filled = quarter * BarWidth / 4;
            ArenaStats s = arena.GetStats();
            output.WriteLine($"live  {phase,-8} {quarter * 25,3}% [{new string('#', filled)}{new string('.', BarWidth - filled)}] " +
                             string.Join(" | ", s.Zones.Select(ZoneLine)));
        }
    }
}

// On a terminal: the zones as a table (free against the watermarks, per-thread pages, the LRU lists) and a progress
// bar, redrawn at most every 50 ms while the phase runs on this thread.
internal sealed class SpectreLiveView(IAnsiConsole console, BuddyArena arena) : LiveView
{
    public override void Run(Phase phase, int number, int count, Workload workload)
    {
        console.Live(Render(phase, number, count, 0, 1)).AutoClear(false).Start(context =>
        {
            var clock = Stopwatch.StartNew();
            workload.Progress = new Redraw(clock, (done, total) => context.UpdateTarget(Render(phase, number, count, done, total)));
            phase.Run(workload);
            context.UpdateTarget(Render(phase, number, count, 1, 1));
        });
        workload.Progress = SilentProgress.Instance;
    }

    private IRenderable Render(Phase phase, int number, int count, long done, long total)
    {
        ArenaStats s = arena.GetStats();
        var table = new Table().Border(TableBorder.Rounded)
            .Title($"[bold]phase {number}/{count}: {Markup.Escape(phase.Title)}[/]")
            .AddColumns("zone", "free", "pcp", "active/dirty/clean", "free vs min, low, high");
        foreach (ZoneStats z in s.Zones)
        {
            table.AddRow(Markup.Escape(z.Name), N(z.FreePages), N(z.PerCpuPages),
                $"{N(z.ActivePages)}/{N(z.InactiveDirtyPages)}/{N(z.InactiveCleanPages)}", Markup.Escape(WatermarkChart.Bar(z, 28)));
        }
        double fraction = total <= 0 ? 1 : Math.Clamp((double)done / total, 0, 1);
        int width = 40, filled = (int)(fraction * width);
        string bar = $"[green]{new string('━', filled)}[/][grey]{new string('━', width - filled)}[/] {fraction * 100,5:0.0}%";
        return new Rows(table,
            new Markup($"{Markup.Escape(phase.Name)} {bar}"),
            new Markup($"[grey]allocations {s.Allocations}, reclaimed {s.Reclaimed}, laundered {s.Laundered}[/]"));
    }

    private static string N(long value) => value.ToString(CultureInfo.InvariantCulture);

    private sealed class Redraw(Stopwatch clock, Action<long, long> draw) : IPhaseProgress
    {
        private long _last = -1;

        public void Report(long done, long total)
        {
            long now = clock.ElapsedMilliseconds;
            if (_last >= 0 && now - _last < 50)
                return;
            _last = now;
            draw(done, total);
        }
    }
}
