namespace FastBuddy.Policy;

/// <summary>Which step of the seed's allocation path served an allocation (the index into the step counters).</summary>
internal enum AllocationStep
{
    FastPath = 0,
    High = 1,
    Low = 2,
    Min = 3,
    DirectReclaim = 4,
    HigherOrderReclaim = 5,
    FinalPhase = 6,
    Failed = 7,
}

internal static class AllocationStepInfo
{
    public const int Count = 8;
}
