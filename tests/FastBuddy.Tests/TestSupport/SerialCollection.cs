namespace FastBuddy.Tests.TestSupport;

/// <summary>Tests that must not share the machine with other test classes (timing-sensitive races).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialCollection
{
    public const string Name = "Core: runs alone";
}
