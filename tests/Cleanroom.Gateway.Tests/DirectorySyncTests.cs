using System.Runtime.InteropServices;
using Cleanroom.Gateway.Cache;

namespace Cleanroom.Gateway.Tests;

public sealed class DirectorySyncTests : IDisposable
{
    private readonly Scratch _scratch = new();

    public void Dispose() => _scratch.Dispose();

    [Theory]
    [InlineData(Architecture.X64, 0x10000)]
    [InlineData(Architecture.Arm64, 0x4000)]
    [InlineData(Architecture.Arm, 0x4000)]
    [InlineData(Architecture.Wasm, 0)]
    public void O_DIRECTORY_is_the_architectures_value_and_never_arm64s_O_DIRECT(Architecture architecture, int expected) =>
        Assert.Equal(expected, DirectorySync.DirectoryFlag(architecture));

    [Fact]
    public void Flush_opens_a_directory_and_refuses_a_file()
    {
        DirectorySync.Flush(_scratch.Path);

        var file = Path.Combine(_scratch.Path, "not-a-directory");
        File.WriteAllText(file, "x");
        Assert.Throws<IOException>(() => DirectorySync.Flush(file));
    }
}
