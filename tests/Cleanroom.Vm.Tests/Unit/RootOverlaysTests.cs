using System.Text.Json;
using Cleanroom.Vm.Qemu;
using Cleanroom.Vm.Tests.Support;

namespace Cleanroom.Vm.Tests.Unit;

/// <summary>
/// Every cold-booted VM gets a copy-on-write overlay of its root image; after the first for a base, the overlay is
/// written from the bytes qemu-img made instead of by running it again. Real qemu-img, run through a wrapper that
/// counts its runs, and checked with <c>qemu-img info</c> and <c>qemu-img check</c>.
/// </summary>
public sealed class RootOverlaysTests : IDisposable
{
    private const long MiB = 1024 * 1024;
    private readonly TempDir _dir = new();
    private readonly string _runs;
    private readonly string _countingQemuImg;

    public RootOverlaysTests()
    {
        _runs = _dir.Combine("runs");
        _countingQemuImg = _dir.Combine("qemu-img");
        File.WriteAllText(_countingQemuImg, $"#!/bin/sh\necho run >> '{_runs}'\nexec '{HostTools.QemuImgPath}' \"$@\"\n");
        File.SetUnixFileMode(_countingQemuImg, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    public void Dispose() => _dir.Dispose();

    [QemuFact]
    public async Task Later_overlays_of_a_base_are_the_bytes_qemu_img_makes_without_running_it()
    {
        var image = MakeBase("base.ext4", 64 * MiB);
        var overlays = new RootOverlays(() => _countingQemuImg);

        await overlays.CreateAsync(image, _dir.Combine("first.qcow2"), reusable: true, CancellationToken.None);
        await overlays.CreateAsync(image, _dir.Combine("second.qcow2"), reusable: true, CancellationToken.None);
        await overlays.CreateAsync(image, _dir.Combine("third.qcow2"), reusable: true, CancellationToken.None);

        Assert.Equal(1, Runs());
        Assert.Equal(1, overlays.MadeByQemuImg);
        var direct = _dir.Combine("direct.qcow2");
        await HostTools.RunAsync(HostTools.QemuImgPath!, [.. RootDisk.CreateArguments(image, direct)]);
        Assert.Equal(await File.ReadAllBytesAsync(direct), await File.ReadAllBytesAsync(_dir.Combine("third.qcow2")));
        Assert.Equal(64 * MiB, RootOverlays.VirtualSize(await File.ReadAllBytesAsync(direct))); // what keeping checks
        Assert.Equal(-1, RootOverlays.VirtualSize(new byte[64]));
        var info = await InfoAsync(_dir.Combine("third.qcow2"));
        Assert.Equal(64 * MiB, info.GetProperty("virtual-size").GetInt64());
        Assert.Equal(Path.GetFullPath(image), info.GetProperty("backing-filename").GetString());
        Assert.Equal(0, (await HostTools.TryRunAsync(HostTools.QemuImgPath!, "check", "-q", _dir.Combine("third.qcow2"))).ExitCode);
    }

    [QemuFact]
    public async Task A_base_that_changed_size_gets_an_overlay_of_its_new_size_from_qemu_img()
    {
        var image = MakeBase("base.ext4", 64 * MiB);
        var overlays = new RootOverlays(() => _countingQemuImg);
        await overlays.CreateAsync(image, _dir.Combine("before.qcow2"), reusable: true, CancellationToken.None);

        using (var file = new FileStream(image, FileMode.Open, FileAccess.Write))
        {
            file.SetLength(128 * MiB); // a rebuilt image of another size, at the same path
        }

        await overlays.CreateAsync(image, _dir.Combine("after.qcow2"), reusable: true, CancellationToken.None);

        Assert.Equal(2, Runs());
        Assert.Equal(128 * MiB, (await InfoAsync(_dir.Combine("after.qcow2"))).GetProperty("virtual-size").GetInt64());
    }

    [QemuFact]
    public async Task A_base_made_for_one_VM_is_never_kept()
    {
        var image = MakeBase("grown.ext4", 64 * MiB);
        var overlays = new RootOverlays(() => _countingQemuImg);

        await overlays.CreateAsync(image, _dir.Combine("a.qcow2"), reusable: false, CancellationToken.None);
        await overlays.CreateAsync(image, _dir.Combine("b.qcow2"), reusable: false, CancellationToken.None);

        Assert.Equal(2, Runs());
    }

    [QemuFact]
    public async Task An_existing_file_at_the_overlay_path_is_refused_and_left_as_it_was()
    {
        var image = MakeBase("base.ext4", 64 * MiB);
        var overlays = new RootOverlays(() => _countingQemuImg);
        await overlays.CreateAsync(image, _dir.Combine("first.qcow2"), reusable: true, CancellationToken.None);
        var taken = _dir.Combine("taken.qcow2");
        await File.WriteAllTextAsync(taken, "someone else's file");

        await Assert.ThrowsAsync<IOException>(() => overlays.CreateAsync(image, taken, reusable: true, CancellationToken.None));

        Assert.Equal("someone else's file", await File.ReadAllTextAsync(taken));
    }

    [Fact]
    public async Task A_missing_base_is_refused_by_name_without_running_qemu_img()
    {
        var overlays = new RootOverlays(() => throw new InvalidOperationException("qemu-img must not be looked up"));

        var ex = await Assert.ThrowsAsync<VmException>(() => overlays.CreateAsync(_dir.Combine("absent.ext4"), _dir.Combine("o.qcow2"), reusable: true, CancellationToken.None));

        Assert.Contains("absent.ext4", ex.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(_dir.Combine("o.qcow2")));
    }

    private string MakeBase(string name, long bytes)
    {
        var path = _dir.Combine(name);
        using var file = File.Create(path);
        file.SetLength(bytes);
        return path;
    }

    private int Runs() => File.Exists(_runs) ? File.ReadAllLines(_runs).Length : 0;

    private static async Task<JsonElement> InfoAsync(string overlay)
    {
        var result = await HostTools.RunAsync(HostTools.QemuImgPath!, "info", "--output=json", overlay);
        return JsonDocument.Parse(result.Stdout).RootElement.Clone();
    }
}
