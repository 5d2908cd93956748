using System.Buffers.Binary;
using Cleanroom.GuestAgent.Init;

namespace Cleanroom.GuestAgent.Tests;

/// <summary>The settings a template boot and a restored sandbox's configure request carry, and what the agent builds from them.</summary>
public class TemplateBootOptionsTests
{
    [Fact]
    public void Template_mode_needs_exactly_1()
    {
        Assert.True(BootOptions.Parse("console=ttyS0 cleanroom.template=1").Template);
        Assert.False(BootOptions.Parse("cleanroom.template=yes").Template);
        Assert.False(BootOptions.Parse("cleanroom.template").Template);
        Assert.False(BootOptions.Parse("quiet").Template);
    }

    [Fact]
    public void A_configure_request_s_arguments_carry_the_sandbox_settings()
    {
        var options = BootOptions.Parse("cleanroom.net=10.213.0.6/30,10.213.0.5,10.213.0.5 cleanroom.workspace=/work cleanroom.workspace.owner=dev cleanroom.mac=02:ab:cd:00:00:01");

        Assert.Equal("10.213.0.6", options.Network?.Address.ToString());
        Assert.Equal("/work", options.WorkspacePath);
        Assert.Equal("dev", options.WorkspaceOwner);
        Assert.Equal("02:ab:cd:00:00:01", options.Mac);
        Assert.False(options.Template);
    }

    [Fact]
    public void A_valid_mac_parses_to_its_six_bytes()
    {
        Assert.Equal(new byte[] { 0x02, 0xab, 0xcd, 0x00, 0x00, 0x01 }, MacAddress.Parse("02:ab:cd:00:00:01"));
    }

    [Theory]
    [InlineData("02:AB:CD:00:00:01")]      // uppercase
    [InlineData("02:ab:cd:00:00")]         // five octets
    [InlineData("02:ab:cd:00:00:01:02")]   // seven
    [InlineData("02-ab-cd-00-00-01")]      // other separator
    [InlineData("02:ab:cd:00:00:0g")]      // not hex
    [InlineData("2:ab:cd:00:00:001")]      // misplaced colon
    [InlineData("03:ab:cd:00:00:01")]      // multicast
    [InlineData("00:00:00:00:00:00")]      // all zero
    [InlineData("")]
    public void A_malformed_mac_is_ignored(string value)
    {
        Assert.Null(MacAddress.Parse(value));
        Assert.Null(BootOptions.Parse("cleanroom.mac=" + value).Mac);
    }

    [Fact]
    public void The_random_pool_info_credits_every_bit_and_carries_the_bytes()
    {
        var entropy = Enumerable.Range(1, 40).Select(i => (byte)i).ToArray();

        var info = RandomPoolInfo.Build(entropy);

        Assert.Equal(RandomPoolInfo.HeaderSize + 40, info.Length);
        Assert.Equal(320, BinaryPrimitives.ReadInt32LittleEndian(info));       // entropy_count, in bits
        Assert.Equal(40, BinaryPrimitives.ReadInt32LittleEndian(info.AsSpan(4))); // buf_size, in bytes
        Assert.Equal(entropy, info[RandomPoolInfo.HeaderSize..]);
    }

    [Fact]
    public unsafe void The_hardware_address_request_names_the_card_and_holds_an_ethernet_address()
    {
        var request = stackalloc byte[GuestNetwork.InterfaceRequestSize];
        new Span<byte>(request, GuestNetwork.InterfaceRequestSize).Fill(0xee);

        NetworkCardAddress.WriteRequest(request, "eth0", [0x02, 0, 0, 0, 0, 0x07]);

        var bytes = new Span<byte>(request, GuestNetwork.InterfaceRequestSize).ToArray();
        Assert.Equal("eth0\0"u8.ToArray(), bytes[..5]);
        Assert.Equal(1, BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(16))); // ARPHRD_ETHER
        Assert.Equal(new byte[] { 0x02, 0, 0, 0, 0, 0x07 }, bytes[18..24]);
        Assert.All(bytes[24..], b => Assert.Equal(0, b));
    }

    [Theory]
    [InlineData("virtio2", true)]
    [InlineData("virtio15", true)]
    [InlineData("virtio", false)]
    [InlineData("virtio2/../x", false)]
    [InlineData("pci0000:00", false)]
    public void Only_virtio_device_names_are_written_to_the_driver(string name, bool expected) =>
        Assert.Equal(expected, WorkspaceDisk.IsVirtioDeviceName(name));
}
