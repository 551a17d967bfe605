import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Kafka's own Java producer, for the e2e suite: writes the lines of stdin as records of one
 * partition, in one compressed batch, and prints each line's offset.
 *
 *   java -cp <the broker's classpath> CompressingProducer.java <brokers> <topic> <partition> <codec>
 *
 * A line "@zeros:<n>" is a record of n zero bytes (a decompression bomb, once compressed); a line
 * "@empty:<n>" is n records with empty values, and its offset is the last one's.
 */
public class CompressingProducer {
  public static void main(String[] args) throws Exception {
    Properties props = new Properties();
    props.put("bootstrap.servers", args[0]);
    props.put("compression.type", args[3]);
    props.put("key.serializer", ByteArraySerializer.class.getName());
    props.put("value.serializer", ByteArraySerializer.class.getName());
    // Long enough for every line to join the batch; flush() sends it at the end.
    props.put("linger.ms", "30000");
    props.put("batch.size", "16777216");
    props.put("max.request.size", "16777216");
    props.put("buffer.memory", "67108864");
    props.put("acks", "all");
    int partition = Integer.parseInt(args[2]);
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props)) {
      List<Future<RecordMetadata>> sent = new ArrayList<>();
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        int count = line.startsWith("@empty:") ? Integer.parseInt(line.substring(7)) : 1;
        byte[] value = line.startsWith("@zeros:")
            ? new byte[Integer.parseInt(line.substring(7))]
            : count > 1 || line.startsWith("@empty:") ? new byte[0] : line.getBytes(StandardCharsets.UTF_8);
        Future<RecordMetadata> last = null;
        for (int i = 0; i < count; i++) last = producer.send(new ProducerRecord<>(args[1], partition, null, value));
        sent.add(last);
      }
      producer.flush();
      for (Future<RecordMetadata> record : sent) System.out.println(record.get().offset());
    }
  }
}
