namespace FastBuddy.Platform;

/// <summary>
/// One zone's memory as the operating system handed it out: the usable, aligned range and the whole reservation
/// around it (guard pages included), which is what goes back on release.
/// </summary>
internal readonly unsafe struct MemoryRegion(void* @base, nuint bytes, void* reservation, nuint reservationBytes, bool mapped)
{
    /// <summary>The first usable byte, aligned as asked.</summary>
    public void* Base { get; } = @base;

    /// <summary>Usable bytes from <see cref="Base"/>.</summary>
    public nuint Bytes { get; } = bytes;

    /// <summary>Start of the whole reservation (the leading guard page when there is one).</summary>
    public void* Reservation { get; } = reservation;

    /// <summary>Length of the whole reservation, guard pages included.</summary>
    public nuint ReservationBytes { get; } = reservationBytes;

    /// <summary>
    /// The range is an anonymous mapping of its own (mmap): its pages can be decommitted, and fresh pages read
    /// as zero. False for the portable fallback (an aligned heap block).
    /// </summary>
    public bool IsMapped { get; } = mapped;

    public bool IsEmpty => Base == null;
}
