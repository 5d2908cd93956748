using Cleanroom.Vm;
using Cleanroom.Vm.Assets;
using Cleanroom.Vm.Doctor;

namespace Cleanroom.Daemon.Hosting;

/// <summary>Doctor checks that belong to the daemon rather than the backend: its state directory and boot assets.</summary>
public sealed class DaemonChecks(DaemonOptions options)
{
    public IEnumerable<DoctorCheck> Run()
    {
        yield return StateDirCheck();
        yield return AssetsCheck();
    }

    private DoctorCheck StateDirCheck()
    {
        try
        {
            var probe = Path.Combine(options.StateDir, $".doctor-{Environment.ProcessId}");
            File.WriteAllText(probe, "ok");
            File.Delete(probe);
            return new DoctorCheck("state_dir", CheckStatus.Pass, options.StateDir);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new DoctorCheck("state_dir", CheckStatus.Fail, $"{options.StateDir} is not writable: {ex.Message}");
        }
    }

    private DoctorCheck AssetsCheck()
    {
        if (options.AssetsDir is null)
        {
            return new DoctorCheck("boot_assets", CheckStatus.Fail, "no assets directory configured: run scripts/setup.sh and start the daemon with --assets .build/assets");
        }

        try
        {
            var assets = BootAssets.Load(options.AssetsDir);
            return new DoctorCheck("boot_assets", CheckStatus.Pass, $"{options.AssetsDir} (kernel {assets.KernelPath})");
        }
        catch (Exception ex) when (ex is BootAssetsException or IOException)
        {
            return new DoctorCheck("boot_assets", CheckStatus.Fail, ex.Message);
        }
    }
}
