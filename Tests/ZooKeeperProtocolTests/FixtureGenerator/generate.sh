#!/bin/sh
# Regenerates ../Fixtures/java-jute-vectors.txt from Apache ZooKeeper's own jute classes.
# Needs a JDK (javac/java 17) and the Debian `zookeeper` / `libzookeeper-java` jars, or set ZK_CLASSPATH.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
jars=/usr/share/java
classpath=${ZK_CLASSPATH:-$jars/zookeeper.jar:$jars/zookeeper-jute.jar:$jars/slf4j-api.jar:$jars/slf4j-nop.jar}
build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT
javac -encoding UTF-8 -nowarn -cp "$classpath" -d "$build" "$here/GenerateJuteFixtures.java"
java -Dfile.encoding=UTF-8 -cp "$build:$classpath" GenerateJuteFixtures > "$here/../Fixtures/java-jute-vectors.txt"
echo "wrote $(wc -l < "$here/../Fixtures/java-jute-vectors.txt") lines to Fixtures/java-jute-vectors.txt"
