using System.Runtime.ExceptionServices;

namespace FastBuddy.Benchmarks.Suite;

/// <summary>
/// Persistent worker threads for the throughput benchmarks: started once (in GlobalSetup), parked on a semaphore
/// each, released for one invocation and waited for with a countdown; nothing is allocated per invocation.
/// </summary>
internal sealed class WorkerPool : IDisposable
{
    private readonly Thread[] _threads;
    private readonly SemaphoreSlim[] _go;
    private readonly CountdownEvent _done = new(1);
    private Action<int>? _body;
    private ExceptionDispatchInfo? _error;
    private volatile bool _stopping;

    public WorkerPool(int workers)
    {
        _threads = new Thread[workers];
        _go = new SemaphoreSlim[workers];
        for (int i = 0; i < workers; i++)
        {
            _go[i] = new SemaphoreSlim(0);
            int index = i;
            _threads[i] = new Thread(() => Loop(index)) { IsBackground = true, Name = $"bench worker {i}" };
            _threads[i].Start();
        }
    }

    public int Count => _threads.Length;

    /// <summary>Runs <paramref name="body"/>(worker index) on the first <paramref name="workers"/> workers and waits for all of them.</summary>
    public void Run(Action<int> body, int workers)
    {
        _body = body;
        _done.Reset(workers);
        for (int i = 0; i < workers; i++)
            _go[i].Release(); // a full fence: the workers see _body
        _done.Wait();
        if (_error is { } error)
        {
            _error = null;
            error.Throw();
        }
    }

    private void Loop(int index)
    {
        while (true)
        {
            _go[index].Wait();
            if (_stopping)
                return;
            try
            {
                _body!(index);
            }
            catch (Exception e)
            {
                _error = ExceptionDispatchInfo.Capture(e);
            }
            _done.Signal();
        }
    }

    public void Dispose()
    {
        _stopping = true;
        foreach (SemaphoreSlim go in _go)
            go.Release();
        foreach (Thread t in _threads)
            t.Join();
        foreach (SemaphoreSlim go in _go)
            go.Dispose();
        _done.Dispose();
    }
}
