using System.Globalization;

namespace FastBuddy.Cli;

// A size in bytes as the command line writes it: digits with an optional K, M or G suffix (binary units).
internal readonly record struct ByteSize(long Bytes)
{
    public static bool TryParse(string text, out ByteSize size)
    {
        size = default;
        if (string.IsNullOrEmpty(text))
            return false;
        long unit = char.ToUpperInvariant(text[^1]) switch
        {
            'K' => 1L << 10,
            'M' => 1L << 20,
            'G' => 1L << 30,
            _ => 1,
        };
        string digits = unit == 1 ? text : text[..^1];
        if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long value) || value > long.MaxValue / unit)
            return false;
        size = new ByteSize(value * unit);
        return true;
    }

    // Shown by --help as the default: the largest unit that divides the size.
    public override string ToString()
    {
        foreach ((long unit, string suffix) in new[] { (1L << 30, "G"), (1L << 20, "M"), (1L << 10, "K") })
        {
            if (Bytes != 0 && Bytes % unit == 0)
                return (Bytes / unit).ToString(CultureInfo.InvariantCulture) + suffix;
        }
        return Bytes.ToString(CultureInfo.InvariantCulture);
    }
}
