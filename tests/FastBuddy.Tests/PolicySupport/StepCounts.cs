namespace FastBuddy.Tests.PolicySupport;

/// <summary>
/// A comparable copy of <see cref="AllocationStepCounts"/>, so that a test can assert the exact change of every
/// step counter across one call: <c>Assert.Equal(StepCounts.Of(high: 1), after - before)</c>.
/// </summary>
public readonly record struct StepCounts(
    long FastPath, long High, long Low, long Min, long DirectReclaim, long HigherOrderReclaim, long FinalPhase, long Failed)
{
    public static StepCounts From(AllocationStepCounts s)
        => new(s.FastPath, s.High, s.Low, s.Min, s.DirectReclaim, s.HigherOrderReclaim, s.FinalPhase, s.Failed);

    public static StepCounts Read(BuddyArena arena) => From(arena.GetStats().Steps);

    public static StepCounts Of(
        long fastPath = 0, long high = 0, long low = 0, long min = 0, long directReclaim = 0,
        long higherOrderReclaim = 0, long finalPhase = 0, long failed = 0)
        => new(fastPath, high, low, min, directReclaim, higherOrderReclaim, finalPhase, failed);

    public static StepCounts operator -(StepCounts a, StepCounts b)
        => new(a.FastPath - b.FastPath, a.High - b.High, a.Low - b.Low, a.Min - b.Min, a.DirectReclaim - b.DirectReclaim,
            a.HigherOrderReclaim - b.HigherOrderReclaim, a.FinalPhase - b.FinalPhase, a.Failed - b.Failed);

    public override string ToString()
        => $"FastPath={FastPath} High={High} Low={Low} Min={Min} DirectReclaim={DirectReclaim} "
         + $"HigherOrderReclaim={HigherOrderReclaim} FinalPhase={FinalPhase} Failed={Failed}";
}
