namespace FastBuddy.Cli;

// One chapter of the demo's story: a short name (also a --workload choice), a title, what it does and shows in
// the policy's terms, and the work itself.
internal sealed record Phase(string Name, string Title, string Story, Action<Workload> Run);
