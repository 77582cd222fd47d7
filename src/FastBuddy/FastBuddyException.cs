namespace FastBuddy;

/// <summary>Bad input to a <see cref="BuddyArena"/>: carries the <see cref="FastBuddyStatus"/> and the reason.</summary>
/// <remarks>The arena is unchanged when this is thrown.</remarks>
public class FastBuddyException : ArgumentException
{
    /// <summary>Creates the exception.</summary>
    public FastBuddyException(FastBuddyStatus status, string message, string? paramName = null)
        : base(message, paramName) => Status = status;

    /// <summary>Why the call was refused.</summary>
    public FastBuddyStatus Status { get; }
}
