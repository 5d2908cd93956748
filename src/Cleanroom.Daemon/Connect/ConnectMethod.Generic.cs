using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.AspNetCore.Server;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Cleanroom.Daemon.Connect;

/// <summary>
/// A <see cref="ConnectMethod"/> for one method of the generated service base <typeparamref name="TService"/>. The
/// service is created per call by Grpc.AspNetCore's own activator (as a gRPC call creates it), and the method's handler
/// is taken from the generated <c>BindService</c>, so no method is named or dispatched by hand. Its options (the
/// idempotency level) come from the service's descriptor.
/// </summary>
internal sealed class ConnectMethod<TService, TRequest, TResponse>(Method<TRequest, TResponse> method, Action<ServiceBinderBase, TService?> bind, Google.Protobuf.Reflection.ServiceDescriptor service) : ConnectMethod
    where TService : class
    where TRequest : class
    where TResponse : class
{
    public override string Path => method.FullName; // "/package.Service/Method"

    public override string Name => method.Name;

    public override MethodType Type => method.Type;

    public override bool HasNoSideEffects { get; } =
        (service.FindMethodByName(method.Name) ?? throw new InvalidOperationException($"{method.FullName} is not in the descriptor of {service.FullName}"))
            .GetOptions()?.IdempotencyLevel == MethodOptions.Types.IdempotencyLevel.NoSideEffects;

    // Generated messages deserialize from no bytes to their empty instance, which names its descriptor.
    public override MessageDescriptor RequestDescriptor { get; } = ((IMessage)method.RequestMarshaller.ContextualDeserializer(EmptyPayload.Instance)).Descriptor;

    public override async Task<IMessage> InvokeUnaryAsync(HttpContext http, IMessage request, ServerCallContext context, IReadOnlyList<Interceptor> interceptors)
    {
        var activator = http.RequestServices.GetRequiredService<IGrpcServiceActivator<TService>>();
        var handle = activator.Create(http.RequestServices);
        try
        {
            var handler = Handler<UnaryServerMethod<TRequest, TResponse>>(handle.Instance);
            for (var i = interceptors.Count - 1; i >= 0; i--)
            {
                var (inner, interceptor) = (handler, interceptors[i]);
                handler = (r, c) => interceptor.UnaryServerHandler(r, c, inner);
            }

            return (IMessage)await handler((TRequest)request, context);
        }
        finally
        {
            await activator.ReleaseAsync(handle);
        }
    }

    public override async Task InvokeServerStreamingAsync(HttpContext http, IMessage request, Func<IMessage, Task> write, ServerCallContext context, IReadOnlyList<Interceptor> interceptors)
    {
        var activator = http.RequestServices.GetRequiredService<IGrpcServiceActivator<TService>>();
        var handle = activator.Create(http.RequestServices);
        try
        {
            var handler = Handler<ServerStreamingServerMethod<TRequest, TResponse>>(handle.Instance);
            for (var i = interceptors.Count - 1; i >= 0; i--)
            {
                var (inner, interceptor) = (handler, interceptors[i]);
                handler = (r, s, c) => interceptor.ServerStreamingServerHandler(r, s, c, inner);
            }

            await handler((TRequest)request, new ConnectStreamWriter<TResponse>(write), context);
        }
        finally
        {
            await activator.ReleaseAsync(handle);
        }
    }

    private THandler Handler<THandler>(TService service)
        where THandler : Delegate
    {
        var finder = new HandlerFinder(method.FullName);
        bind(finder, service);
        return finder.Found as THandler ?? throw new InvalidOperationException($"{method.FullName} has no {typeof(THandler).Name} handler");
    }

    /// <summary>A zero-length payload for the generated (contextual) deserializer.</summary>
    private sealed class EmptyPayload : DeserializationContext
    {
        public static readonly EmptyPayload Instance = new();

        public override int PayloadLength => 0;

        public override byte[] PayloadAsNewBuffer() => [];

        public override System.Buffers.ReadOnlySequence<byte> PayloadAsReadOnlySequence() => System.Buffers.ReadOnlySequence<byte>.Empty;
    }

    /// <summary>Binds a service instance and keeps the one handler asked for.</summary>
    private sealed class HandlerFinder(string fullName) : ServiceBinderBase
    {
        public Delegate? Found { get; private set; }

        public override void AddMethod<TReq, TResp>(Method<TReq, TResp> m, UnaryServerMethod<TReq, TResp>? handler) => Keep(m.FullName, handler);

        public override void AddMethod<TReq, TResp>(Method<TReq, TResp> m, ServerStreamingServerMethod<TReq, TResp>? handler) => Keep(m.FullName, handler);

        public override void AddMethod<TReq, TResp>(Method<TReq, TResp> m, ClientStreamingServerMethod<TReq, TResp>? handler) => Keep(m.FullName, handler);

        public override void AddMethod<TReq, TResp>(Method<TReq, TResp> m, DuplexStreamingServerMethod<TReq, TResp>? handler) => Keep(m.FullName, handler);

        private void Keep(string name, Delegate? handler)
        {
            if (name == fullName)
            {
                Found = handler;
            }
        }
    }
}
