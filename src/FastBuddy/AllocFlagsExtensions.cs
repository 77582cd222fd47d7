namespace FastBuddy;

/// <summary>Normalisation of <see cref="AllocFlags"/> shared by the C# and C entry points.</summary>
internal static class AllocFlagsExtensions
{
    /// <summary>Every defined flag bit.</summary>
    public const AllocFlags All = AllocFlags.Wait | AllocFlags.Io | AllocFlags.Fs | AllocFlags.MemAlloc | AllocFlags.Zero;

    /// <summary>Flags the fast paths serve as they are: everything but Zero (which needs the checked path's zeroing).</summary>
    public const AllocFlags Fast = AllocFlags.Wait | AllocFlags.Io | AllocFlags.Fs | AllocFlags.MemAlloc;

    public static bool Has(this AllocFlags flags, AllocFlags bit) => (flags & bit) != 0;
}
