using System.Text;

namespace FastBuddy.Cli;

// Wraps the phases' stories to the width of the tables.
internal static class TextWrap
{
    public static string Wrap(string text, int width, string indent)
    {
        var sb = new StringBuilder();
        int column = 0;
        foreach (string word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (column > 0 && column + 1 + word.Length > width)
            {
                sb.AppendLine();
                column = 0;
            }
            if (column == 0)
            {
                sb.Append(indent).Append(word);
                column = indent.Length + word.Length;
            }
            else
            {
                sb.Append(' ').Append(word);
                column += 1 + word.Length;
            }
        }
        return sb.ToString();
    }
}
