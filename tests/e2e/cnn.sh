# The CNN fixtures end to end (fixtures/cnn/, written by
# fixtures/train/make_cnn_fixtures.py; see fixtures/README.md): every form of
# every model converted by the real pth2blob with the flags that form needs,
# then the tutorial's 2 images, test rows 0-9 and rows 0-199 in every request
# shape (CSV, the nine JSON shapes, KServe V2 as [N, 784] and [N, 1, 28, 28])
# scored by score.fcgi as CGI and behind a real lighttpd (FastCGI), each answer
# within 1e-4 of torch's logits with the same argmax (tests/e2e/cnn_compare.py
# judges them all in one Python run).  The custom modules whose order of
# execution the file cannot tell are refused in one line, writing nothing.
. tests/e2e/lib.sh
. tests/e2e/lib_httpd.sh
P=$BUILD/pth2blob
S=$BUILD/score.fcgi
C=fixtures/cnn
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
MANIFEST=$T/manifest
: >"$MANIFEST"
mkdir -p "$T/out" "$T/answers"

# What converts: BLOB|MODEL|INPUT (in fixtures/cnn/MODEL/)|pth2blob flags;
# ARCH stands for the model's arch.txt.
CONVERSIONS='cnn_bn.module|cnn_bn|model.pth|
cnn_bn.state_dict|cnn_bn|state_dict.pth|--arch ARCH
cnn_bn.mlflow|cnn_bn|mlflow|
cnn_view.module|cnn_view|model.pth|--arch features,flatten,classifier --input-shape 1,28,28
cnn_view.state_dict|cnn_view|state_dict.pth|--arch ARCH --input-shape 1,28,28
cnn_view.mlflow|cnn_view|mlflow|--arch features,flatten,classifier --input-shape 1,28,28
cnn_stride.module|cnn_stride|model.pth|--input-shape 1,28,28
cnn_stride.state_dict|cnn_stride|state_dict.pth|--arch ARCH --input-shape 1,28,28
cnn_stride.mlflow|cnn_stride|mlflow|
order_net.arch|order_net|model.pth|--arch fc1,relu,fc2'

# What must be refused: NAME|MODEL|INPUT|flags|fragments the one line must
# hold (separated by &).
REFUSALS='cnn_view: forward() reshapes, two children with parameters|cnn_view|model.pth|--input-shape 1,28,28|Sequential&--arch
cnn_view MLflow folder without --arch|cnn_view|mlflow|--input-shape 1,28,28|Sequential&--arch
cnn_view: --arch in an order whose shapes do not chain|cnn_view|model.pth|--arch classifier,flatten,features --input-shape 1,28,28|classifier
cnn_stride: the first layer is a Conv2d and no shape is given|cnn_stride|model.pth||--input-shape
cnn_stride state_dict: no shape given|cnn_stride|state_dict.pth|--arch ARCH|--input-shape
order_net: relu registered before fc1|order_net|model.pth||Sequential&--arch
residual_net: a skip connection|residual_net|model.pth||Sequential&--arch'

# flags_of MODEL FLAGS: FLAGS with ARCH replaced by the model's arch.txt.
flags_of() {
	if [ -f "$C/$1/arch.txt" ]; then
		printf '%s' "$2" | sed "s/ARCH/$(cat "$C/$1/arch.txt")/"
	else
		printf '%s' "$2"
	fi
}

BLOBS=
while IFS='|' read -r blob model input flags; do
	f=$(flags_of "$model" "$flags")
	# shellcheck disable=SC2086 # flags are words without spaces or globs
	if out=$("$P" -q --name "$model" $f "$C/$model/$input" "$T/$blob.blob" 2>&1 </dev/null) && [ -s "$T/$blob.blob" ]; then
		ok "convert $model/$input${flags:+ $flags}"
		BLOBS="$BLOBS $blob"
	else
		not_ok "convert $model/$input${flags:+ $flags}" "$out"
	fi
done <<EOF
$CONVERSIONS
EOF

# --verify on every form: torch runs the original (the custom classes are in
# fixtures/train/src, on PYTHONPATH) and the blob on the same rows; the blob
# records it.  Without torch the checks say they skipped.
if "$PY" -c 'import torch' 2>/dev/null; then has_torch=1; else has_torch=; fi
while IFS='|' read -r blob model input flags; do
	name="verify $model/$input${flags:+ $flags}"
	if [ -z "$has_torch" ]; then
		ok "$name # SKIP verify: $PY cannot import torch"
		continue
	fi
	f=$(flags_of "$model" "$flags")
	# shellcheck disable=SC2086
	if out=$(PYTHONPATH=fixtures/train/src "$P" -q --verify $f "$C/$model/$input" "$T/v.blob" 2>&1 </dev/null) &&
	   "$P" --inspect "$T/v.blob" | grep -q '^verified: .*argmax \([0-9]*\)/\1, torch'; then
		ok "$name"
	else
		not_ok "$name" "$out" "$("$P" --inspect "$T/v.blob" 2>&1 | grep verified)"
	fi
	rm -f "$T/v.blob"
done <<EOF
$CONVERSIONS
EOF
# A skip connection that --arch describes as a chain: names, types and shapes
# agree, so only torch can tell; --verify refuses it and writes nothing.
if [ -n "$has_torch" ]; then
	out=$(PYTHONPATH=fixtures/train/src "$P" --verify --arch flatten,fc0,fc1,relu,fc2 "$C/residual_net/model.pth" \
		"$T/out/x.blob" 2>&1 </dev/null)
	if [ $? -ne 0 ] && [ ! -e "$T/out/x.blob" ] && printf '%s' "$out" | grep -q 'verify: max |logit difference| .* > 1e-04'; then
		ok "residual_net given as a chain with --arch: --verify refuses it"
	else
		not_ok "residual_net given as a chain with --arch: --verify refuses it" "$out"
	fi
else
	ok "residual_net given as a chain with --arch: --verify refuses it # SKIP verify: $PY cannot import torch"
fi

while IFS='|' read -r name model input flags fragments; do
	f=$(flags_of "$model" "$flags")
	# shellcheck disable=SC2086
	out=$("$P" $f "$C/$model/$input" "$T/out/x.blob" 2>&1 </dev/null)
	rc=$?
	why=
	[ $rc -ne 0 ] || why="exit status 0"
	[ ! -e "$T/out/x.blob" ] || why="$why; an output file was written"
	[ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] || why="$why; not one line"
	old_ifs=$IFS IFS='&'
	for fragment in $fragments; do
		printf '%s' "$out" | grep -qF -- "$fragment" || why="$why; lacks '$fragment'"
	done
	IFS=$old_ifs
	if [ -z "$why" ]; then ok "refused: $name"; else not_ok "refused: $name" "${why#; }" "$out"; fi
	rm -f "$T/out/x.blob"
done <<EOF
$REFUSALS
EOF
if [ -z "$(ls -A "$T/out")" ]; then ok "refusals left no file behind"; else not_ok "refusals left no file behind" "$(ls -A "$T/out")"; fi

# KServe V2 bodies from the CSVs: v2 SHAPE CSV (SHAPE: flat or image).
v2() {
	awk -F, -v shape="$1" 'NR > 1 { for (i = 1; i <= NF; i++) printf "%s%s", (n++ ? "," : ""), $i; rows++ }
		BEGIN { printf "{\"inputs\": [{\"name\": \"input-0\", \"shape\": SHAPE, \"datatype\": \"FP32\", \"data\": [" }
		END { print "]}]}" }' "$2" >"$T/v2.tmp"
	rows=$(($(wc -l <"$2") - 1))
	dims="[$rows, 784]"
	[ "$1" = image ] && dims="[$rows, 1, 28, 28]"
	sed "s/SHAPE/$dims/" "$T/v2.tmp"
}

# The requests, one line each: SET|FILE|BYTES|ROUTE|CONTENT-TYPE (V2
# routes name the model MODEL).  Computed once: the loops below fork little.
request() {
	printf '%s|%s|%s|%s|%s\n' "$1" "$2" "$(wc -c <"$2")" "$3" "$4"
}
requests() {
	request images fixtures/test_data/images_azureml.json /score application/json
	request images fixtures/test_data/images.csv /score text/csv
	for set in batch10 batch200; do
		dir=fixtures/test_data
		[ $set = batch10 ] && dir=$C/requests
		request $set "$dir/$set.csv" /invocations "text/csv; charset=utf-8"
		for shape in azureml_split azureml_list azureml_columns; do
			request $set "$dir/${set}_$shape.json" /score application/json
		done
		for shape in dataframe_split dataframe_records instances instances_records inputs inputs_columns; do
			request $set "$dir/${set}_$shape.json" /invocations application/json
		done
	done
	for set in images batch10 batch200; do
		for shape in flat image; do
			request $set "$T/v2_${set}_$shape.json" /v2/models/MODEL/infer application/json
		done
	done
}
for shape in flat image; do
	v2 $shape fixtures/test_data/images.csv >"$T/v2_images_$shape.json"
	v2 $shape "$C/requests/batch10.csv" >"$T/v2_batch10_$shape.json"
	v2 $shape fixtures/test_data/batch200.csv >"$T/v2_batch200_$shape.json"
done
requests >"$T/requests"

# jobs BLOB VIA: a script per request to the blob in $T/jobs (run later,
# several at a time), each writing its answer into $T/answers, and one
# manifest line each.  VIA is CGI, or FastCGI at $URL.
jobs() {
	model=${1%%.*}
	i=0
	while IFS='|' read -r set file bytes route type; do
		i=$((i + 1))
		answer=$T/answers/$1.$2.$i
		if [ "$2" = CGI ]; then
			how=cgi
			echo "REQUEST_METHOD=POST REQUEST_URI='$route' CONTENT_TYPE='$type' CONTENT_LENGTH=$bytes" \
				"'$S' --model '$T/$1.blob' --metrics-file '$T/metrics-cgi' --log '$T/cgi.log'" \
				"<'$file' >'$answer' 2>>'$T/cgi-stderr'" >"$T/jobs/$2.$i"
		else
			how="http $answer.status"
			echo "curl -s -o '$answer' -w '%{http_code}' -H 'Content-Type: $type'" \
				"--data-binary '@$file' '$URL$route' </dev/null >'$answer.status'" >"$T/jobs/$2.$i"
		fi
		case $set in images) n=2 ;; batch10) n=10 ;; *) n=200 ;; esac
		printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$model ${1#*.} via $2: $n images" "${file##*/} to $route" \
			"$how" "$answer" "$C/$model/expected/${set}_logits.tsv" "$C/$model/expected/${set}_argmax.txt" \
			>>"$MANIFEST"
	done <<-EOF
	$(sed "s/MODEL/$model/" "$T/requests")
	EOF
}

# Per blob: one lighttpd (2 FastCGI processes) and its CGI and FastCGI
# requests, three at a time.
for blob in $BLOBS; do
	if ! start_lighttpd "$T/$blob.blob" 2; then
		not_ok "lighttpd starts with $blob"
		continue
	fi
	rm -rf "$T/jobs"
	mkdir "$T/jobs"
	jobs "$blob" CGI
	jobs "$blob" FastCGI
	find "$T/jobs" -type f | xargs -n 1 -P 3 sh
	stop_lighttpd
done
verdict=$("$PY" -I tests/e2e/cnn_compare.py "$MANIFEST" 2>&1)
printf '%s\n' "$verdict"
if printf '%s\n' "$verdict" | grep -q '^not ok' && [ -s "$T/cgi-stderr" ]; then
	echo "#   score.fcgi's stderr as CGI (last lines):"
	tail -n 5 "$T/cgi-stderr" | sed 's/^/#     /'
fi
