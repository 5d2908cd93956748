using Cleanroom.Vm.Assets;

namespace Cleanroom.Vm.Tests.Support;

/// <summary>Boot assets made of <see cref="TinyKernel"/>, a dummy initrd and a 1 MiB raw base image.</summary>
internal static class TinyVm
{
    public static BootAssets Assets(TempDir dir, bool exitAfterMarker)
    {
        var kernel = TinyKernel.Write(dir.Combine(exitAfterMarker ? "tiny-exit" : "tiny-halt"), exitAfterMarker);
        var initrd = dir.WriteFile("initrd", "unused");
        var baseImage = dir.Combine("base.raw");
        File.WriteAllBytes(baseImage, new byte[1024 * 1024]);
        return new BootAssets(kernel, initrd, baseImage);
    }
}
