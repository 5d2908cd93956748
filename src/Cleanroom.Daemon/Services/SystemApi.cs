using Cleanroom.Api.V1;
using Cleanroom.Daemon.Hosting;
using Cleanroom.Daemon.PolicySupport;
using Cleanroom.Vm;
using Grpc.Core;

namespace Cleanroom.Daemon.Services;

/// <summary>cleanroom.v1.SystemService: version and host diagnostics.</summary>
internal sealed class SystemApi(IVmBackend backend, DaemonChecks daemonChecks, DaemonNetwork network, DaemonGateway gateway) : SystemService.SystemServiceBase
{
    public override async Task<GetVersionResponse> GetVersion(GetVersionRequest request, ServerCallContext context)
    {
        var accel = await backend.ResolveAccelAsync(context.CancellationToken);
        return new GetVersionResponse
        {
            Version = DaemonVersion.Current,
            Backend = backend.Name,
            Accelerator = accel.Mode.ToString().ToLowerInvariant(),
            AcceleratorReason = accel.Reason,
        };
    }

    public override async Task<DoctorResponse> Doctor(DoctorRequest request, ServerCallContext context)
    {
        var response = new DoctorResponse { Backend = backend.Name };
        foreach (var check in daemonChecks.Run().Concat(network.Checks()).Concat(gateway.Checks()).Concat(await backend.RunDoctorChecksAsync(context.CancellationToken)))
        {
            response.Checks.Add(new Api.V1.DoctorCheck
            {
                Name = check.Name,
                Status = check.Status switch
                {
                    Vm.Doctor.CheckStatus.Pass => Api.V1.CheckStatus.Pass,
                    Vm.Doctor.CheckStatus.Warn => Api.V1.CheckStatus.Warn,
                    _ => Api.V1.CheckStatus.Fail,
                },
                Message = check.Message,
            });
        }

        foreach (var (name, supported) in PolicyEnforcement.Capabilities(network.Networks is not null, network.Networks?.Options.Pool6 is not null))
        {
            response.Capabilities.Add(name, supported);
        }

        return response;
    }
}
