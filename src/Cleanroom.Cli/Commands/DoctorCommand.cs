using System.CommandLine;
using Cleanroom.Api.V1;
using Cleanroom.Cli.Rendering;

namespace Cleanroom.Cli.Commands;

/// <summary>
/// <c>cleanroom doctor</c>: the daemon's host checks. Exits 0 whatever the checks say (they are a report, not a
/// gate); only failing to reach the daemon is an error.
/// </summary>
internal sealed class DoctorCommand : Command
{
    private readonly JsonOption _json = new();

    public DoctorCommand(CliContext context, DaemonAccess daemon)
        : base("doctor", "Check the host: QEMU, kernel, KVM or TCG, mkfs.ext4, guest agent")
    {
        Options.Add(_json);
        SetAction((parse, cancellationToken) => daemon.RunAsync(parse, async connection =>
        {
            var response = await connection.System.DoctorAsync(new DoctorRequest(), cancellationToken: cancellationToken);
            if (parse.GetValue(_json))
            {
                JsonOutput.Write(context.Out, response);
            }
            else
            {
                DoctorReport.Write(context.Out, OutputStyle.For(context), response);
            }

            return ExitCodes.Success;
        }, cancellationToken));
    }
}
