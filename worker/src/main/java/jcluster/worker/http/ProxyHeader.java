package jcluster.worker.http;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.netty.util.NetUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * First handler of a connection with {@code --proxy-protocol}: a connection from a source outside
 * {@code --proxy-from} is closed before a byte is read; from a trusted one, the PROXY protocol header (v1 or v2,
 * Netty's decoder) must come first, and the client address it names becomes the connection's
 * ({@link ClientAddress}) for the app and the access log. A header missing or malformed closes the connection. A v2
 * LOCAL header (the proxy's own health check) or an UNKNOWN protocol keeps the peer's address, as the protocol says.
 * Each refusal is logged, at most {@link #LOG_PER_SECOND} a second (a flood of them must not flood the log), the
 * rest counted in the next line.
 */
final class ProxyHeader extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(ProxyHeader.class);
    static final String DECODER = "proxy-decoder";
    static final String NAME = "proxy-header";
    static final int LOG_PER_SECOND = 10;
    private static final AtomicLong window = new AtomicLong();
    private static final AtomicLong inWindow = new AtomicLong();
    private static final AtomicLong unlogged = new AtomicLong();

    private final TrustedProxies trusted;

    ProxyHeader(TrustedProxies trusted) {
        this.trusted = trusted;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        InetSocketAddress peer = ctx.channel().remoteAddress() instanceof InetSocketAddress a ? a : null;
        if (peer == null || !trusted.trusts(peer)) {
            refuse(ctx, "from " + (peer == null ? "an unknown address" : peer.getAddress().getHostAddress())
                    + ", which --proxy-from (" + trusted.text() + ") does not trust");
            return;
        }
        ctx.pipeline().addBefore(NAME, DECODER, new HAProxyMessageDecoder());
        super.channelActive(ctx);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof HAProxyMessage header)) {
            ctx.fireChannelRead(msg);
            return;
        }
        try {
            if (header.command() == HAProxyCommand.PROXY && (header.proxiedProtocol() == HAProxyProxiedProtocol.TCP4
                    || header.proxiedProtocol() == HAProxyProxiedProtocol.TCP6)) {
                // the decoder checked it is a numeric address: no lookup
                java.net.InetAddress source = NetUtil.createInetAddressFromIpAddressString(header.sourceAddress());
                if (source == null) {
                    refuse(ctx, "whose PROXY header names no address: " + header.sourceAddress());
                    return;
                }
                ctx.channel().attr(ClientAddress.KEY).set(new InetSocketAddress(source, header.sourcePort()));
            }
        } finally {
            header.release();
        }
        // the decoder removes itself once its header is read, passing on what followed it
        ctx.pipeline().remove(this);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof io.netty.handler.codec.DecoderException) {
            String why = cause.getCause() != null ? cause.getCause().getMessage() : cause.getMessage();
            InetSocketAddress peer = (InetSocketAddress) ctx.channel().remoteAddress();
            refuse(ctx, "from " + peer.getAddress().getHostAddress() + " without a valid PROXY protocol header ("
                    + why + ")");
            return;
        }
        ctx.fireExceptionCaught(cause);
    }

    private static void refuse(ChannelHandlerContext ctx, String why) {
        ctx.close();
        long second = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime());
        if (window.getAndSet(second) != second) {
            inWindow.set(0);
        }
        if (inWindow.incrementAndGet() <= LOG_PER_SECOND) {
            long more = unlogged.getAndSet(0);
            log.warn("refused a connection {}{}", why, more > 0 ? " (and " + more + " more not logged)" : "");
        } else {
            unlogged.incrementAndGet();
        }
    }
}
