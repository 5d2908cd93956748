using Grpc.AspNetCore.Server;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Cleanroom.Daemon.Connect;

/// <summary>
/// The interceptors registered for gRPC (<see cref="GrpcServiceOptions.Interceptors"/>, e.g. the error interceptor),
/// created for one Connect call the way Grpc.AspNetCore creates them: from the container when registered there,
/// otherwise constructed, and disposed after the call when constructed.
/// </summary>
internal sealed class ConnectInterceptors : IAsyncDisposable
{
    private readonly List<object> _created = [];

    public ConnectInterceptors(IServiceProvider services)
    {
        var list = new List<Interceptor>();
        foreach (var registration in services.GetRequiredService<IOptions<GrpcServiceOptions>>().Value.Interceptors)
        {
            if (registration.Arguments.Count == 0 && services.GetService(registration.Type) is Interceptor shared)
            {
                list.Add(shared);
                continue;
            }

            var created = (Interceptor)ActivatorUtilities.CreateInstance(services, registration.Type, [.. registration.Arguments]);
            _created.Add(created);
            list.Add(created);
        }

        All = list;
    }

    /// <summary>Outermost first, as registered.</summary>
    public IReadOnlyList<Interceptor> All { get; }

    public async ValueTask DisposeAsync()
    {
        foreach (var created in _created)
        {
            switch (created)
            {
                case IAsyncDisposable asyncDisposable:
                    await asyncDisposable.DisposeAsync();
                    break;
                case IDisposable disposable:
                    disposable.Dispose();
                    break;
            }
        }
    }
}
