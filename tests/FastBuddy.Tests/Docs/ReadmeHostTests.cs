namespace FastBuddy.Tests.Docs;

/// <summary>
/// The README's C host is a real program: native-interop/samples/readme_host.c, built and run by the C tests and,
/// against an installed copy, by native-interop/install-check.sh. The two texts must stay identical.
/// </summary>
public sealed class ReadmeHostTests
{
    [Fact]
    public void TheReadmesCHost_IsExactlySamplesReadmeHostC()
    {
        string root = RepositoryRoot();
        string readme = File.ReadAllText(Path.Combine(root, "README.md")).ReplaceLineEndings("\n");
        string sample = File.ReadAllText(Path.Combine(root, "native-interop", "samples", "readme_host.c")).ReplaceLineEndings("\n");

        Assert.Equal(sample, CSnippetAfter(readme, "A C host:"));
    }

    /// <summary>The body of the first ```c block after <paramref name="marker"/>.</summary>
    private static string CSnippetAfter(string markdown, string marker)
    {
        int at = markdown.IndexOf(marker, StringComparison.Ordinal);
        Assert.True(at >= 0, $"README.md no longer has \"{marker}\"");
        int start = markdown.IndexOf("```c\n", at, StringComparison.Ordinal);
        Assert.True(start >= 0, $"no ```c block after \"{marker}\"");
        start += "```c\n".Length;
        int end = markdown.IndexOf("```\n", start, StringComparison.Ordinal);
        Assert.True(end >= 0, "the ```c block is not closed");
        return markdown[start..end];
    }

    private static string RepositoryRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "FastBuddy.sln")) && File.Exists(Path.Combine(dir.FullName, "README.md")))
                return dir.FullName;
        }
        throw new InvalidOperationException($"no repository root above {AppContext.BaseDirectory}");
    }
}
