using System.Buffers;
using System.Text;

namespace FastBuddy.Cli;

// Appends UTF-8 text and numbers straight into a buffer writer (the SVG writer's output), without strings per number.
internal readonly struct Utf8Text(IBufferWriter<byte> buffer)
{
    public Utf8Text Append(string text)
    {
        Span<byte> span = buffer.GetSpan(Encoding.UTF8.GetMaxByteCount(text.Length));
        buffer.Advance(Encoding.UTF8.GetBytes(text, span));
        return this;
    }

    public Utf8Text Append(long value)
    {
        Span<byte> span = buffer.GetSpan(20);
        value.TryFormat(span, out int written, default, System.Globalization.CultureInfo.InvariantCulture);
        buffer.Advance(written);
        return this;
    }
}
