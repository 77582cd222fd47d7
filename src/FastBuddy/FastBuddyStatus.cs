namespace FastBuddy;

/// <summary>Outcome codes shared by the C# and C APIs (the C constants have the same values).</summary>
public enum FastBuddyStatus
{
    /// <summary>Success.</summary>
    Ok = 0,
    /// <summary>An argument is out of range, an option is inconsistent, or a handle is not a live arena.</summary>
    InvalidArgument = 1,
    /// <summary>The allocation could not be satisfied under the caller's flags.</summary>
    NoMemory = 2,
    /// <summary>The pointer lies outside every zone of the arena.</summary>
    NotOwned = 3,
    /// <summary>The pointer is inside the arena but is not the head of a block (interior or misaligned).</summary>
    NotABlock = 4,
    /// <summary>The block has already been freed.</summary>
    DoubleFree = 5,
    /// <summary>The order given does not match the order the block was allocated with.</summary>
    OrderMismatch = 6,
    /// <summary>An internal invariant is broken (reported by <see cref="BuddyArena.Validate"/>).</summary>
    Corrupt = 7,
    /// <summary>The page is in the page cache: take it out with <see cref="BuddyArena.CacheRemove"/> first.</summary>
    Busy = 8,
    /// <summary>The page was reclaimed by the arena (its owner's Evict ran).</summary>
    Reclaimed = 9,
}
