package jcluster.common;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageCodec;
import io.netty.handler.codec.CorruptedFrameException;

import java.util.List;

/**
 * Encodes and decodes {@link Frame}s. A frame with an unknown type or a length that does not match its type is
 * malformed: decoding throws {@link CorruptedFrameException}, and the owner of the channel closes it.
 */
public final class FrameCodec extends ByteToMessageCodec<Frame> {

    @Override
    protected void encode(ChannelHandlerContext ctx, Frame frame, ByteBuf out) {
        encodeTo(frame, out);
    }

    /** Writes one frame to {@code out}; for a socket that has no codec in its pipeline. */
    public static void encodeTo(Frame frame, ByteBuf out) {
        out.writeByte(frame.type().code);
        out.writeShort(frame.payload().length);
        out.writeBytes(frame.payload());
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        Frame frame;
        while ((frame = decode(in)) != null) {
            out.add(frame);
        }
    }

    /** Decodes one frame from {@code in}, or returns null (consuming nothing) when it is not all there yet. */
    public static Frame decode(ByteBuf in) {
        if (in.readableBytes() < Frame.HEADER_LENGTH) {
            return null;
        }
        int start = in.readerIndex();
        int code = in.getUnsignedByte(start);
        MessageType type = MessageType.ofCode(code);
        if (type == null) {
            throw new CorruptedFrameException("unknown message type " + code);
        }
        int length = in.getUnsignedShort(start + 1);
        if (!type.fits(length)) {
            throw new CorruptedFrameException(type + " with a payload of " + length + " bytes, expected "
                    + type.lengths());
        }
        if (in.readableBytes() < Frame.HEADER_LENGTH + length) {
            return null;
        }
        byte[] payload = new byte[length];
        in.skipBytes(Frame.HEADER_LENGTH).readBytes(payload);
        return new Frame(type, payload);
    }
}
