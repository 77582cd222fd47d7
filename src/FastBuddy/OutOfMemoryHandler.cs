namespace FastBuddy;

/// <summary>
/// Asked when an allocation is about to fail. It may free memory; return true to have the allocation retried once.
/// </summary>
public delegate bool OutOfMemoryHandler(BuddyArena arena, int order, AllocFlags flags);
