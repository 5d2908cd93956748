using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.AspNetCore.Http;

namespace Cleanroom.Daemon.Connect;

/// <summary>
/// One RPC as the Connect endpoint sees it: its path, its kind and its request type, and a way to run it on the same
/// service implementation, through the same interceptors, that serves it over gRPC.
/// </summary>
internal abstract class ConnectMethod
{
    /// <summary>The URL path, <c>/cleanroom.v1.SandboxService/ListSandboxes</c>.</summary>
    public abstract string Path { get; }

    /// <summary>The method name alone, <c>ListSandboxes</c>.</summary>
    public abstract string Name { get; }

    public abstract MethodType Type { get; }

    /// <summary>
    /// True when the .proto marks the method <c>option idempotency_level = NO_SIDE_EFFECTS</c>: a unary one is then
    /// also served to a Connect GET.
    /// </summary>
    public abstract bool HasNoSideEffects { get; }

    public abstract MessageDescriptor RequestDescriptor { get; }

    public abstract Task<IMessage> InvokeUnaryAsync(HttpContext http, IMessage request, ServerCallContext context, IReadOnlyList<Interceptor> interceptors);

    public abstract Task InvokeServerStreamingAsync(HttpContext http, IMessage request, Func<IMessage, Task> write, ServerCallContext context, IReadOnlyList<Interceptor> interceptors);
}
