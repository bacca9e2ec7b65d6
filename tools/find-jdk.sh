# Sourced by ./ipg and ./run-tests: sets JAVA to a java binary of version >= IPG_MIN_JAVA (25)
# found in JAVA_HOME, on PATH, or under the usual JVM directories, and exports JAVA_HOME to
# match. Leaves JAVA empty when there is none.
IPG_MIN_JAVA=25

ipg_java_major() {  # prints the major version of the java binary $1
  "$1" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2; exit}'
}

ipg_find_jdk() {
  local cands=() d j v best="" bestv=0
  [ -n "${JAVA_HOME:-}" ] && cands+=("$JAVA_HOME/bin/java")
  command -v java >/dev/null 2>&1 && cands+=("$(command -v java)")
  for d in /usr/lib/jvm/* /usr/local/lib/jvm/* /opt/java/* /opt/jdk* "$HOME"/.sdkman/candidates/java/*; do
    [ -x "$d/bin/java" ] && [ -x "$d/bin/javac" ] && cands+=("$d/bin/java")
  done
  for j in "${cands[@]}"; do
    v="$(ipg_java_major "$j" 2>/dev/null || true)"
    v="${v%%.*}"
    if [[ "$v" =~ ^[0-9]+$ ]] && [ "$v" -ge "$IPG_MIN_JAVA" ] && [ "$v" -gt "$bestv" ]; then
      best="$j"; bestv="$v"
    fi
  done
  JAVA="$best"
  if [ -n "$JAVA" ]; then
    JAVA_HOME="$(dirname "$(dirname "$(readlink -f "$JAVA")")")"
    export JAVA_HOME
  fi
}

ipg_no_jdk() {
  echo "ipg: needs a JDK $IPG_MIN_JAVA or newer; none found in JAVA_HOME, on PATH or under /usr/lib/jvm." >&2
  echo "     Install one (e.g. Eclipse Temurin 25 from adoptium.net, or your distribution's openjdk-25-jdk)" >&2
  echo "     and put it on PATH or set JAVA_HOME." >&2
}
