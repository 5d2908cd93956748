using Cleanroom.Api.V1;
using Grpc.Core;

namespace Cleanroom.Cli.Tests.FakeDaemon;

/// <summary>The fake daemon's SystemService: fixed version and doctor answers.</summary>
internal sealed class FakeSystemService : SystemService.SystemServiceBase
{
    public override Task<GetVersionResponse> GetVersion(GetVersionRequest request, ServerCallContext context) =>
        Task.FromResult(new GetVersionResponse { Version = "9.9.9-fake", Backend = "fake", Accelerator = "tcg", AcceleratorReason = "no kvm in tests" });

    public override Task<DoctorResponse> Doctor(DoctorRequest request, ServerCallContext context) =>
        Task.FromResult(new DoctorResponse
        {
            Backend = "fake",
            Checks =
            {
                new DoctorCheck { Name = "qemu_binary", Status = CheckStatus.Pass, Message = "/usr/bin/qemu-system-x86_64" },
                new DoctorCheck { Name = "kvm", Status = CheckStatus.Warn, Message = "probe boot hung; using tcg" },
                new DoctorCheck { Name = "agent", Status = CheckStatus.Fail, Message = "missing" },
            },
        });
}
