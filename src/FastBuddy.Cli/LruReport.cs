namespace FastBuddy.Cli;

// The page cache's LRU lists per zone, with the pages on them (from the arena's page map, by page number).
internal static class LruReport
{
    private const int Shown = 6;

    private static readonly (PageState State, string Name)[] Lists =
        [(PageState.Active, "active"), (PageState.InactiveDirty, "inactive_dirty"), (PageState.InactiveClean, "inactive_clean")];

    public static void Print(TextWriter output, PageMap map)
    {
        output.WriteLine("LRU lists (pages by number within the zone):");
        foreach (ZonePageMap zone in map.Zones)
        {
            foreach ((PageState state, string name) in Lists)
            {
                ReadOnlySpan<PageState> states = zone.States;
                var first = new List<int>(Shown);
                int count = 0;
                for (int page = 0; page < states.Length; page++)
                {
                    if (states[page] != state)
                        continue;
                    if (count++ < Shown)
                        first.Add(page);
                }
                string pages = count == 0 ? "empty"
                    : string.Join(" ", first.Select(p => "#" + p)) + (count > Shown ? " ..." : "");
                output.WriteLine($"  {zone.Name,-8} {name,-15} {count,6}  {pages}");
            }
        }
    }
}
