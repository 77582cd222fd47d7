namespace FastBuddy.Cli;

// The "map" verb: the arena after a workload drawn page by page as SVG, and a per-state summary on the output.
internal static class MapVerb
{
    public static int Run(WorkloadRun run, string svgPath, int columns, TextWriter output, TextWriter error)
    {
        var logger = new TextLogger(error);
        using BuddyArena arena = run.Start(TextWriter.Null, logger);
        PageMap map = arena.GetPageMap();
        DecayNote.Check(run.Lifetime.Elapsed, error);
        byte[] svg = MapSvg.Render(map, columns, $"FastBuddy page map after workload {run.Workload}, seed {run.Seed}",
            run.Shape.Describe());
        File.WriteAllBytes(svgPath, svg);

        output.WriteLine($"map: wrote {svgPath} ({svg.Length} bytes, {columns} pages per row): {run.Describe()}");
        foreach (ZonePageMap zone in map.Zones)
        {
            var counts = new long[Enum.GetValues<PageState>().Length];
            foreach (PageState state in zone.States)
                counts[(int)state]++;
            var parts = Enum.GetValues<PageState>().Select(s => $"{s} {counts[(int)s]}");
            output.WriteLine($"  {zone.Name}: {zone.Pages} pages: {string.Join(", ", parts)}");
            var blocks = Enumerable.Range(0, map.MaxOrder).Select(o => zone.FreeBlocks(o));
            output.WriteLine($"  {zone.Name}: free blocks per order: {string.Join(" ", blocks)}");
        }
        return 0;
    }
}
