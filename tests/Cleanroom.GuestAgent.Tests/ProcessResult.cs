using System.Text;
using Cleanroom.Guest.Wire.Messages;

namespace Cleanroom.GuestAgent.Tests;

/// <summary>Everything a finished guest process produced.</summary>
internal sealed record ProcessResult(byte[] Stdout, byte[] Stderr, ExitMessage Exit)
{
    public string StdoutText => Encoding.UTF8.GetString(Stdout);

    public string StderrText => Encoding.UTF8.GetString(Stderr);
}
