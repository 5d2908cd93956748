using Cleanroom.Vm.Assets;
using Cleanroom.Vm.Templates;

namespace Cleanroom.Vm.Tests.Unit;

/// <summary>The template's memory cannot be changed once sealed, and it outlives a discard while a clone still starts from it.</summary>
public sealed class VmTemplateTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cr-tpl-test-").FullName;

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    [Fact]
    public void Sealed_template_memory_refuses_writes()
    {
        using var memory = Memfd.Create("test", 1 << 20);
        RandomAccess.Write(memory, new byte[] { 1, 2, 3 }, 0);

        Memfd.Seal(memory);

        Assert.Equal(Memfd.AllSeals, Memfd.Seals(memory));
        var refused = Record.Exception(() => RandomAccess.Write(memory, new byte[] { 9 }, 0));
        Assert.True(refused is IOException or UnauthorizedAccessException, $"a write to sealed memory must fail, got {refused?.GetType().Name ?? "no error"}");
        var read = new byte[3];
        RandomAccess.Read(memory, read, 0);
        Assert.Equal(new byte[] { 1, 2, 3 }, read);
        Assert.True(Memfd.AllocatedBytes(memory) >= 4096, "the written page is allocated");
    }

    [Fact]
    public void A_discarded_template_stays_until_its_last_lease_ends()
    {
        var memory = Memfd.Create("test", 1 << 20);
        var template = new VmTemplate(Request(), _dir, memory, "console=ttyS0", TimeSpan.Zero);
        var lease = template.TryLease();
        Assert.NotNull(lease);

        template.Dispose();

        Assert.True(template.IsDisposed);
        Assert.Null(template.TryLease());
        Assert.True(Directory.Exists(_dir), "a clone is still starting from it");
        Assert.False(memory.IsClosed);

        lease.Dispose();
        lease.Dispose();

        Assert.False(Directory.Exists(_dir));
        Assert.True(memory.IsClosed);
    }

    [Fact]
    public void A_spec_that_differs_from_the_template_is_named()
    {
        using var template = new VmTemplate(Request(), _dir, Memfd.Create("test", 1 << 20), "console=ttyS0", TimeSpan.Zero);
        var spec = new VmSpec("sb", "/w/sb", Request().Assets, Vcpus: 2, MemoryMiB: 512);

        Assert.Contains("vCPUs 2", template.Mismatch(spec with { Vcpus = 2 }) ?? "", StringComparison.Ordinal);
        Assert.Contains("memory 1024", template.Mismatch(spec with { Vcpus = 1, MemoryMiB = 1024 }) ?? "", StringComparison.Ordinal);
        Assert.Contains("workspace", template.Mismatch(spec with { Vcpus = 1, WorkspaceImagePath = "/w/ws.ext4" }) ?? "", StringComparison.Ordinal);
        Assert.Contains("root image", template.Mismatch(spec with { Vcpus = 1, RootImagePath = "/other.ext4" }) ?? "", StringComparison.Ordinal);
    }

    private VmTemplateRequest Request() =>
        new("tpl-1", "/w/tpl-1", _dir, new BootAssets("/a/vmlinux", "/a/initramfs.cpio.gz", "/a/base.ext4"), "/a/base.ext4", 1, 512, Network: false, Workspace: false);
}
