package jcluster.common;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.PatternLayout;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import ch.qos.logback.core.spi.ContextAwareBase;
import net.logstash.logback.encoder.LogstashEncoder;
import org.slf4j.Logger;

/**
 * The server's logging, set up in code ({@code META-INF/services}), not from a logback.xml: reading and
 * interpreting XML slowed the start of every JVM of the server (the master, each worker, each control command). Every line goes to stderr and names the process that wrote it ({@link Logging}): as
 * text, {@code 2026-12-01T10:00:00.000Z INFO  [worker-1 pid=4242] Worker: ...}, or with {@code --log-format=json}
 * one object a line ({@code @timestamp, message, logger_name, thread_name, level, process, pid}, and
 * {@code stack_trace} for an exception). Under systemd, with stderr in the journal, each line starts with its syslog
 * priority ({@link JournalPriority}). Netty logs warnings and above; the root level is {@code jcluster.log.level}
 * (INFO). A {@code -Dlogback.configurationFile=} of the user's is read instead, as logback reads it.
 */
public final class LogConfigurator extends ContextAwareBase implements Configurator {

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        if (System.getProperty("logback.configurationFile") != null) {
            return ExecutionStatus.INVOKE_NEXT_IF_ANY;
        }
        String process = System.getProperty("jcluster.proc", "jcluster");
        long pid = Long.parseLong(System.getProperty("jcluster.pid", "0"));
        ConsoleAppender<ILoggingEvent> stderr = new ConsoleAppender<>();
        stderr.setContext(context);
        stderr.setName("STDERR");
        stderr.setTarget("System.err");
        stderr.setEncoder(Logging.json() ? json(context, process, pid) : text(context,
                "%journalPriority%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level [" + process + " pid=" + pid
                        + "] %logger{0}: %msg%n"));
        stderr.start();
        context.getLogger("io.netty").setLevel(Level.WARN);
        ch.qos.logback.classic.Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.toLevel(System.getProperty("jcluster.log.level"), Level.INFO));
        root.addAppender(stderr);
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }

    private static Encoder<ILoggingEvent> text(LoggerContext context, String pattern) {
        PatternLayout layout = new PatternLayout();
        layout.setContext(context);
        layout.getInstanceConverterMap().put("journalPriority", JournalPriority::new);
        layout.setPattern(pattern);
        layout.start();
        LayoutWrappingEncoder<ILoggingEvent> encoder = new LayoutWrappingEncoder<>();
        encoder.setContext(context);
        encoder.setLayout(layout);
        encoder.start();
        return encoder;
    }

    private static Encoder<ILoggingEvent> json(LoggerContext context, String process, long pid) {
        LogstashEncoder encoder = new LogstashEncoder();
        encoder.setContext(context);
        encoder.setPrefix(text(context, "%journalPriority"));
        encoder.setCustomFields(Json.string(new StringBuilder("{\"process\":"), process).append(",\"pid\":").append(pid)
                .append("}").toString());
        encoder.getFieldNames().setVersion("[ignore]");
        encoder.getFieldNames().setLevelValue("[ignore]");
        encoder.start();
        return encoder;
    }
}
