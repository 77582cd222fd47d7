namespace FastBuddy;

/// <summary>
/// Asked when an allocation is about to fail. It may free memory; return true to have the allocation retried once.
/// </summary>
/// <remarks>
/// It may allocate, from this arena too: an allocation that fails inside the handler fails without asking any
/// handler again (a per-thread guard), so handlers never nest.
/// </remarks>
public delegate bool OutOfMemoryHandler(BuddyArena arena, int order, AllocFlags flags);
