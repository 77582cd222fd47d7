using System.Runtime.InteropServices;

namespace FastBuddy.Benchmarks.Peers;

/// <summary>
/// A native allocator loaded at run time (never linked): its malloc/free pair as unmanaged function pointers.
/// </summary>
/// <remarks>
/// The libraries are opened with <see cref="NativeLibrary.Load(string)"/> (dlopen, local scope), so
/// they do not replace glibc's malloc for the rest of the process; each call is an unmanaged function-pointer call
/// with the usual GC transition, exactly like <c>NativeMemory.Alloc</c>'s P/Invoke into libSystem.Native.
/// </remarks>
public sealed unsafe class NativePeer
{
    private NativePeer(string name, string library, nint handle, nint malloc, nint free)
    {
        Name = name;
        Library = library;
        Handle = handle;
        Malloc = (delegate* unmanaged<nuint, void*>)malloc;
        Free = (delegate* unmanaged<void*, void>)free;
    }

    /// <summary>Short name shown in the benchmark table ("mimalloc", "jemalloc", "tcmalloc").</summary>
    public string Name { get; }

    /// <summary>The shared object it was loaded from.</summary>
    public string Library { get; }

    /// <summary>The dlopen handle (never closed: the process may still hold blocks from it).</summary>
    public nint Handle { get; }

    /// <summary>malloc(size).</summary>
    public readonly delegate* unmanaged<nuint, void*> Malloc;

    /// <summary>free(p).</summary>
    public readonly delegate* unmanaged<void*, void> Free;

    /// <summary>BenchmarkDotNet shows the argument with ToString().</summary>
    public override string ToString() => Name;

    /// <summary>The peers the suite knows: name, shared object, malloc export, free export.</summary>
    public static readonly (string Name, string Library, string Malloc, string Free, string Package)[] Known =
    [
        ("mimalloc", "libmimalloc.so.2", "mi_malloc", "mi_free", "libmimalloc2.0"),
        // jemalloc's Debian build exports the unprefixed names; GetExport on its own handle finds jemalloc's
        // malloc/free (the library itself is searched first), not glibc's.
        ("jemalloc", "libjemalloc.so.2", "malloc", "free", "libjemalloc2"),
        ("tcmalloc", "libtcmalloc_minimal.so.4", "tc_malloc", "tc_free", "libtcmalloc-minimal4"),
    ];

    /// <summary>
    /// Loads one peer, or returns null with the reason. Set FASTBUDDY_BENCH_NO_PEERS=1 to pretend every peer is
    /// missing (used by bench/run-dry.sh to prove the skip path), or FASTBUDDY_BENCH_PEERS=a,b to keep only some.
    /// </summary>
    public static NativePeer? TryLoad(string name, out string? reason)
    {
        foreach (var k in Known)
        {
            if (k.Name != name)
                continue;
            if (!Enabled(name))
            {
                reason = $"disabled by FASTBUDDY_BENCH_NO_PEERS / FASTBUDDY_BENCH_PEERS";
                return null;
            }
            nint handle;
            try
            {
                handle = NativeLibrary.Load(k.Library);
            }
            catch (DllNotFoundException e)
            {
                reason = e.Message.Contains("static TLS", StringComparison.Ordinal)
                    ? $"{k.Library} needs more static TLS than glibc keeps for dlopen: start the process with " +
                      $"GLIBC_TUNABLES={Program.StaticTlsTunable} (Program does this itself by restarting)"
                    : $"{k.Library} not found (install the Debian package {k.Package}, e.g. bench/setup-peers.sh)";
                return null;
            }
            if (!NativeLibrary.TryGetExport(handle, k.Malloc, out nint malloc) || !NativeLibrary.TryGetExport(handle, k.Free, out nint free))
            {
                reason = $"{k.Library} has no {k.Malloc}/{k.Free} export";
                return null;
            }
            // One smoke call, so that a broken peer is reported here and not as a crash in the middle of a run.
            var peer = new NativePeer(k.Name, k.Library, handle, malloc, free);
            void* p = peer.Malloc(4096);
            if (p == null)
            {
                reason = $"{k.Malloc}(4096) returned NULL";
                return null;
            }
            peer.Free(p);
            reason = null;
            return peer;
        }
        reason = "unknown peer";
        return null;
    }

    private static bool Enabled(string name)
    {
        if (Environment.GetEnvironmentVariable("FASTBUDDY_BENCH_NO_PEERS") is "1" or "true")
            return false;
        string? only = Environment.GetEnvironmentVariable("FASTBUDDY_BENCH_PEERS");
        return string.IsNullOrWhiteSpace(only)
            || only.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Contains(name);
    }
}

/// <summary>The peers available in this process, loaded once (SuiteConfig reports the missing ones).</summary>
public static class NativePeers
{
    private static readonly Lazy<(NativePeer[] Available, (string Name, string Reason)[] Missing)> s_peers = new(Load);

    /// <summary>The peers that loaded (possibly none).</summary>
    public static IReadOnlyList<NativePeer> Available => s_peers.Value.Available;

    /// <summary>The peers that did not load, with the reason.</summary>
    public static IReadOnlyList<(string Name, string Reason)> Missing => s_peers.Value.Missing;

    /// <summary>mimalloc, or null when missing.</summary>
    public static NativePeer? Mimalloc => Find("mimalloc");

    /// <summary>jemalloc, or null when missing.</summary>
    public static NativePeer? Jemalloc => Find("jemalloc");

    /// <summary>tcmalloc, or null when missing.</summary>
    public static NativePeer? Tcmalloc => Find("tcmalloc");

    /// <summary>The available peer of that name, or null.</summary>
    public static NativePeer? Find(string name)
    {
        foreach (NativePeer p in Available)
        {
            if (p.Name == name)
                return p;
        }
        return null;
    }

    private static (NativePeer[], (string, string)[]) Load()
    {
        var available = new List<NativePeer>();
        var missing = new List<(string, string)>();
        foreach (var k in NativePeer.Known)
        {
            NativePeer? peer = NativePeer.TryLoad(k.Name, out string? reason);
            if (peer is not null)
                available.Add(peer);
            else
                missing.Add((k.Name, reason!));
        }
        return (available.ToArray(), missing.ToArray());
    }
}
