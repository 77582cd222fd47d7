namespace FastBuddy.Buddy;

/// <summary>How a zone takes its memory from the operating system and tracks what it gave back (set once by the layout).</summary>
/// <param name="GuardPages">An inaccessible OS page right before and after the zone.</param>
/// <param name="TransparentHugePages">Ask the kernel to back the zone with transparent huge pages.</param>
/// <param name="DecommitUnitOrder">
/// Order of the units the zone's <see cref="CommitMap"/> tracks: the smallest free block that may be decommitted.
/// </param>
/// <param name="TrackFreeAge">Keep, per unit, since when it has been free (only needed when decommit is on).</param>
internal readonly record struct ZoneMemoryOptions(bool GuardPages, bool TransparentHugePages, int DecommitUnitOrder, bool TrackFreeAge);
