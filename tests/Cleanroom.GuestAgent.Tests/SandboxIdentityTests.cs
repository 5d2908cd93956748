using Cleanroom.GuestAgent.Init;

namespace Cleanroom.GuestAgent.Tests;

public sealed class SandboxIdentityTests : IDisposable
{
    private readonly string _etc = Directory.CreateTempSubdirectory("cr-identity-").FullName;

    public void Dispose() => Directory.Delete(_etc, recursive: true);

    [Fact]
    public void The_command_line_carries_a_hostname_and_a_machine_id()
    {
        var options = BootOptions.Parse("quiet cleanroom.hostname=01jz0abcdefghjkmnpqrstvwxy cleanroom.machine_id=0123456789abcdef0123456789abcdef");

        Assert.Equal("01jz0abcdefghjkmnpqrstvwxy", options.HostName);
        Assert.Equal("0123456789abcdef0123456789abcdef", options.MachineId);
    }

    [Theory]
    [InlineData("cleanroom.hostname=")]
    [InlineData("cleanroom.hostname=-leading")]
    [InlineData("cleanroom.hostname=trailing-")]
    [InlineData("cleanroom.hostname=Upper")]
    [InlineData("cleanroom.hostname=with.dot")]
    [InlineData("cleanroom.hostname=a/b")]
    [InlineData("cleanroom.hostname=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")] // 64
    public void A_hostname_that_is_not_a_dns_label_is_ignored(string commandLine) => Assert.Null(BootOptions.Parse(commandLine).HostName);

    [Theory]
    [InlineData("cleanroom.machine_id=00000000000000000000000000000000")]
    [InlineData("cleanroom.machine_id=0123456789ABCDEF0123456789ABCDEF")]
    [InlineData("cleanroom.machine_id=0123456789abcdef0123456789abcde")]
    [InlineData("cleanroom.machine_id=0123456789abcdef0123456789abcdef0")]
    [InlineData("cleanroom.machine_id=0123456789abcdef0123456789abcdeg")]
    public void A_machine_id_not_in_systemds_format_is_ignored(string commandLine) => Assert.Null(BootOptions.Parse(commandLine).MachineId);

    [Fact]
    public void The_identity_files_replace_an_images_even_when_they_are_symlinks()
    {
        // Images often ship /etc/machine-id as a symlink (or empty, or missing); the sandbox's must be a plain file.
        File.CreateSymbolicLink(Path.Combine(_etc, "machine-id"), "/nonexistent/machine-id");
        File.WriteAllText(Path.Combine(_etc, "hostname"), "image\n");

        SandboxIdentity.Apply(hostName: null, machineId: "0123456789abcdef0123456789abcdef", _etc);

        var machineId = new FileInfo(Path.Combine(_etc, "machine-id"));
        Assert.Null(machineId.LinkTarget);
        Assert.Equal("0123456789abcdef0123456789abcdef\n", File.ReadAllText(machineId.FullName));
        Assert.Equal("image\n", File.ReadAllText(Path.Combine(_etc, "hostname"))); // no hostname given: untouched
    }
}
