namespace FastBuddy.Tests.Systematic;

/// <summary>
/// The host's view of its cached pages in a systematic run, shared by its owners: what each page holds on "disk",
/// which version of its contents the arena has been told about (a CacheMarkDirty that found the page cached),
/// how many writebacks of it run, and every broken promise the owners saw from inside their callbacks.
/// </summary>
/// <remarks>Only one logical thread runs at a time, so plain collections are enough.</remarks>
internal sealed class PageLedger
{
    public readonly Dictionary<nint, int> Disk = [];
    public readonly Dictionary<nint, int> Acknowledged = [];
    public readonly Dictionary<nint, int> WritebacksRunning = [];
    public readonly List<string> Violations = [];

    public int Running(nint page) => WritebacksRunning.GetValueOrDefault(page);

    public void AssertNoViolations()
    {
        if (Violations.Count > 0)
            throw new Xunit.Sdk.XunitException(string.Join("; ", Violations));
    }
}

/// <summary>
/// A page owner for systematic runs: Writeback copies the page's version (its first int) to the ledger's disk,
/// with a schedule point in the middle (the I/O); both callbacks check the arena's promises as they start.
/// </summary>
internal sealed unsafe class CheckingOwner(string name, PageLedger ledger) : IPageOwner
{
    /// <summary>Pages the host took back from this owner (CacheRemove returned true): no callback may start for them.</summary>
    public readonly HashSet<nint> Removed = [];

    public readonly List<nint> Evicted = [];

    public int Writebacks;

    /// <summary>The host's lookup: is the page still this owner's cached page?</summary>
    public bool Holds(nint page) => !Removed.Contains(page) && !Evicted.Contains(page);

    public bool Writeback(void* page)
    {
        nint p = (nint)page;
        Writebacks++;
        if (Removed.Contains(p))
            ledger.Violations.Add($"{name}.Writeback(0x{p:x}) started after CacheRemove returned true");
        ledger.WritebacksRunning[p] = ledger.Running(p) + 1;
        int version = *(int*)page;
        PointHooks.Reach("owner.writeback-io");
        ledger.Disk[p] = version;
        ledger.WritebacksRunning[p] = ledger.Running(p) - 1;
        return true;
    }

    public void Evict(void* page)
    {
        nint p = (nint)page;
        if (Removed.Contains(p))
            ledger.Violations.Add($"{name}.Evict(0x{p:x}) started after CacheRemove returned true");
        if (ledger.Running(p) > 0)
            ledger.Violations.Add($"{name}.Evict(0x{p:x}) while {ledger.Running(p)} writeback(s) of it run");
        int disk = ledger.Disk.GetValueOrDefault(p), acknowledged = ledger.Acknowledged.GetValueOrDefault(p);
        if (disk < acknowledged)
            ledger.Violations.Add($"{name}.Evict(0x{p:x}): version {acknowledged} was never written (disk has {disk})");
        Evicted.Add(p);
    }
}
