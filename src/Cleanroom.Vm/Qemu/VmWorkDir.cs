using System.Text;

namespace Cleanroom.Vm.Qemu;

/// <summary>
/// The files QEMU and the backend keep in a VM's work directory. One place for the names. The directory itself
/// belongs to the daemon; what QEMU creates (sockets, pid file) lives in <see cref="RunDir"/>, which belongs to the
/// VM's uid, so a confined QEMU can never replace a file the daemon later reads or writes.
/// </summary>
public sealed record VmWorkDir(string Path)
{
    /// <summary>sun_path is 108 bytes on Linux including the NUL; a longer socket path cannot be bound at all.</summary>
    public const int MaxUnixSocketPathBytes = 107;

    /// <summary>Written by QEMU (-pidfile); <see cref="QemuLeftovers"/> finds crashed daemons' VMs by it.</summary>
    public const string PidFileName = "qemu.pid";

    public string RootDisk => Join("root.qcow2");

    /// <summary>The private root image grown to <see cref="VmSpec.RootDiskMinBytes"/>, when the VM needs one.</summary>
    public string GrownRootImage => Join("root.ext4");

    /// <summary>Directory QEMU creates its sockets and pid file in: mode 0700, owned by the VM's uid.</summary>
    public string RunDir => Join("run");

    /// <summary>
    /// Empty directory the jail's root is mounted on inside QEMU's own mount namespace; on the host it stays empty.
    /// </summary>
    public string JailDir => Join("jail");

    public string AgentSocket => System.IO.Path.Combine(RunDir, "agent.sock");

    public string QmpSocket => System.IO.Path.Combine(RunDir, "qmp.sock");

    /// <summary>The serial console, served by QEMU (so a restarted daemon can connect to it again).</summary>
    public string ConsoleSocket => System.IO.Path.Combine(RunDir, "console.sock");

    /// <summary>Where a template VM sends its device state (the daemon listens, QEMU connects).</summary>
    public string MigrationSocket => System.IO.Path.Combine(RunDir, "migrate.sock");

    public string ConsoleLog => Join("console.log");

    public string QemuStderr => Join("qemu.stderr");

    public string PidFile => System.IO.Path.Combine(RunDir, PidFileName);

    /// <summary>Files that exist only while the VM runs; always deleted at the end.</summary>
    public IReadOnlyList<string> RuntimeFiles => [RootDisk, GrownRootImage, AgentSocket, QmpSocket, ConsoleSocket, MigrationSocket, PidFile];

    /// <summary>Directories that exist only while the VM runs; deleted (when empty) after <see cref="RuntimeFiles"/>.</summary>
    public IReadOnlyList<string> RuntimeDirectories => [RunDir, JailDir];

    /// <summary>Diagnostics kept on request (<see cref="VmSpec.KeepLogs"/>).</summary>
    public IReadOnlyList<string> LogFiles => [ConsoleLog, QemuStderr];

    /// <summary>Throws if a socket path is too long to bind, naming the directory to shorten.</summary>
    public void ValidateSocketPaths()
    {
        foreach (var socket in (string[])[AgentSocket, QmpSocket, ConsoleSocket, MigrationSocket])
        {
            var length = Encoding.UTF8.GetByteCount(socket);
            if (length > MaxUnixSocketPathBytes)
            {
                throw new ArgumentException(
                    $"Unix socket path {socket} is {length} bytes; Linux allows {MaxUnixSocketPathBytes}. Use a shorter sandboxes directory.");
            }
        }
    }

    /// <summary>
    /// Deletes the runtime files (and the logs unless <paramref name="keepLogs"/>), then the directory itself if
    /// <paramref name="removeDirectoryIfEmpty"/> and nothing else is left in it. Missing files are fine.
    /// </summary>
    public void Clean(bool keepLogs, bool removeDirectoryIfEmpty)
    {
        foreach (var file in keepLogs ? RuntimeFiles : [.. RuntimeFiles, .. LogFiles])
        {
            // File.Delete tolerates a missing file but not a missing directory (run/ may not exist yet).
            if (Directory.Exists(System.IO.Path.GetDirectoryName(file)))
            {
                File.Delete(file);
            }
        }

        foreach (var dir in RuntimeDirectories)
        {
            if (Directory.Exists(dir) && !Directory.EnumerateFileSystemEntries(dir).Any())
            {
                Directory.Delete(dir);
            }
        }

        if (removeDirectoryIfEmpty && Directory.Exists(Path) && !Directory.EnumerateFileSystemEntries(Path).Any())
        {
            Directory.Delete(Path);
        }
    }

    private string Join(string name) => System.IO.Path.Combine(Path, name);
}
