namespace FastBuddy;

/// <summary>Normalisation of <see cref="AllocFlags"/> shared by the C# and C entry points.</summary>
internal static class AllocFlagsExtensions
{
    /// <summary>Every defined flag bit.</summary>
    public const AllocFlags All = AllocFlags.Wait | AllocFlags.Io | AllocFlags.Fs | AllocFlags.MemAlloc | AllocFlags.Zero;

    public static bool Has(this AllocFlags flags, AllocFlags bit) => (flags & bit) != 0;
}
