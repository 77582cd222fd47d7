using FastBuddy.Slab;
using Xunit;

namespace FastBuddy.Tests.Slab;

/// <summary>The size class of a request: the table up to 1 KiB and the formula (the one C computes) agree on every size.</summary>
public class SizeClassLookupTests
{
    [Fact]
    public void Of_IsTheFormula_ForEverySize_UpToMaxSmall()
    {
        for (nuint bytes = 1; bytes <= SizeClasses.MaxSmall; bytes++)
        {
            int cls = SizeClasses.Of(bytes);
            Assert.Equal(SizeClasses.Formula(bytes - 1), cls);
            Assert.True(SizeClasses.SizeOf(cls) >= (int)bytes && (cls == 0 || SizeClasses.SizeOf(cls - 1) < (int)bytes),
                $"{bytes} bytes got class {cls} of {SizeClasses.SizeOf(cls)} bytes");
        }
    }
}
