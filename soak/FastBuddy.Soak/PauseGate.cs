namespace FastBuddy.Soak;

/// <summary>
/// Stops one arena's workers at a safe point (between two operations, holding no lock of theirs), so that the
/// monitor can validate the arena and count every page while no host thread changes it.
/// </summary>
internal sealed class PauseGate
{
    private readonly object _lock = new();
    private volatile bool _paused;
    private int _waiting;

    /// <summary>Called by a worker between operations: waits while the gate is shut.</summary>
    public void Checkpoint()
    {
        if (!_paused)
            return;
        lock (_lock)
        {
            _waiting++;
            Monitor.PulseAll(_lock);
            while (_paused)
                Monitor.Wait(_lock);
            _waiting--;
        }
    }

    /// <summary>Shuts the gate and waits until every live worker waits at it (workers that exit meanwhile count out).</summary>
    public void Pause(Func<long> alive)
    {
        lock (_lock)
        {
            _paused = true;
            while (_waiting < alive())
                Monitor.Wait(_lock, 10);
        }
    }

    public void Resume()
    {
        lock (_lock)
        {
            _paused = false;
            Monitor.PulseAll(_lock);
        }
    }
}
