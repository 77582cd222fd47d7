using System.Globalization;

namespace FastBuddy.Tests.TestSupport;

/// <summary>What Linux says about this process's memory: /proc/self/maps, smaps and statm.</summary>
internal static class ProcessMemory
{
    /// <summary>Resident bytes of the process (the second field of /proc/self/statm, in pages).</summary>
    public static long ResidentBytes()
    {
        string[] fields = File.ReadAllText("/proc/self/statm").Split(' ');
        return long.Parse(fields[1], CultureInfo.InvariantCulture) * Environment.SystemPageSize;
    }

    /// <summary>The permissions ("rw-p", "---p", ...) of the mapping that holds <paramref name="address"/>, or null.</summary>
    public static string? PermissionsAt(nint address)
        => MappingAt(address, "/proc/self/maps") is { } line ? line.Split(' ')[1] : null;

    /// <summary>The VmFlags of the mapping that holds <paramref name="address"/> (from smaps), or null.</summary>
    public static string[]? VmFlagsAt(nint address)
    {
        bool inside = false;
        foreach (string line in File.ReadLines("/proc/self/smaps"))
        {
            if (TryParseRange(line, out ulong start, out ulong end))
                inside = (ulong)address >= start && (ulong)address < end;
            else if (inside && line.StartsWith("VmFlags:", StringComparison.Ordinal))
                return line["VmFlags:".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        }
        return null;
    }

    private static string? MappingAt(nint address, string file)
    {
        foreach (string line in File.ReadLines(file))
        {
            if (TryParseRange(line, out ulong start, out ulong end) && (ulong)address >= start && (ulong)address < end)
                return line;
        }
        return null;
    }

    /// <summary>A maps/smaps header line starts with "start-end " in hex; the attribute lines of smaps do not.</summary>
    private static bool TryParseRange(string line, out ulong start, out ulong end)
    {
        start = end = 0;
        int dash = line.IndexOf('-');
        int space = line.IndexOf(' ');
        return dash > 0 && space > dash
            && ulong.TryParse(line.AsSpan(0, dash), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out start)
            && ulong.TryParse(line.AsSpan(dash + 1, space - dash - 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out end);
    }
}
