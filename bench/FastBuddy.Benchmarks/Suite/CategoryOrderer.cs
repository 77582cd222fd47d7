using System.Collections.Immutable;
using System.Globalization;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Order;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace FastBuddy.Benchmarks.Suite;

/// <summary>
/// BenchmarkDotNet's default orderer, except that a logical group (one block of the table, one baseline) is the
/// category and the parameter values alone (the category alone where there are no parameters). The default also
/// splits by job, and the direct-reclaim rows run with their own job settings (IterationSetup forces
/// InvocationCount = 1, UnrollFactor = 1), which would cut them off from their baseline.
/// </summary>
internal sealed class CategoryOrderer : IOrderer
{
    private readonly IOrderer _inner = DefaultOrderer.Instance;

    public IEnumerable<BenchmarkCase> GetExecutionOrder(ImmutableArray<BenchmarkCase> benchmarksCase, IEnumerable<BenchmarkLogicalGroupRule>? order = null)
        => _inner.GetExecutionOrder(benchmarksCase, order);

    public IEnumerable<BenchmarkCase> GetSummaryOrder(ImmutableArray<BenchmarkCase> benchmarksCases, Summary summary)
        => _inner.GetSummaryOrder(benchmarksCases, summary)
            .Select((b, i) => (b, i))
            .OrderBy(x => GetLogicalGroupKey(benchmarksCases, x.b), StringComparer.Ordinal)
            .ThenBy(x => x.i)
            .Select(x => x.b);

    public string? GetHighlightGroupKey(BenchmarkCase benchmarkCase) => _inner.GetHighlightGroupKey(benchmarkCase);

    /// <summary>Categories, then each parameter; integers are padded so that the ordinal order of keys is numeric.</summary>
    public string GetLogicalGroupKey(ImmutableArray<BenchmarkCase> allBenchmarksCases, BenchmarkCase benchmarkCase)
        => string.Join(",", benchmarkCase.Descriptor.Categories)
           + string.Concat(benchmarkCase.Parameters.Items.Select(p => $",{p.Name}={(p.Value is int n ? n.ToString("D10", CultureInfo.InvariantCulture) : p.ToDisplayText())}"));

    public IEnumerable<IGrouping<string, BenchmarkCase>> GetLogicalGroupOrder(IEnumerable<IGrouping<string, BenchmarkCase>> logicalGroups, IEnumerable<BenchmarkLogicalGroupRule>? order = null)
        => logicalGroups.OrderBy(g => g.Key, StringComparer.Ordinal);

    public bool SeparateLogicalGroups => true;
}
