/* The IPG report page: draws the charts and the text sections from the JSON data block.
   Text from the model or the dataset goes into the page only through textContent (or esc() in
   chart tooltips, which ECharts renders as HTML). */
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var POS = '#2f5fd0', NEG = '#c8372d', GREY = '#7b8794';
  var charts = [];

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = text; }
    return e;
  }
  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }
  function fmt(v, digits) {
    if (v === null || v === undefined || !isFinite(v)) { return 'n/a'; }
    var a = Math.abs(v);
    if (a < 1e-15) { return '0'; }
    if (a >= 1e-3 && a < 1e4) { return String(Number(v.toPrecision(digits || 4))); }
    return v.toExponential((digits || 3) - 1);
  }
  function pct(v) { return (v === null || v === undefined || !isFinite(v)) ? 'n/a' : (100 * v).toFixed(1) + '%'; }
  function range(n) { var r = []; for (var i = 0; i < n; i++) { r.push(i); } return r; }
  function short(site) { return site.replace(/^blocks\./, 'L').replace('.hook_', ' ').replace('.mlp', ' mlp').replace('.attn', ' attn'); }
  function init(id) {
    var node = document.getElementById(id);
    if (!node) { return null; }
    var c = echarts.init(node, null, { renderer: 'canvas' });
    c.__ipgName = node.getAttribute('data-chart');
    charts.push(c);
    return c;
  }
  function siteSelect(id, onChange) {
    var sel = document.getElementById(id);
    if (!sel) { return data.sites[0].site; }
    data.sites.forEach(function (s) { var o = el('option', null, s.site); o.value = s.site; sel.appendChild(o); });
    sel.addEventListener('change', function () { onChange(sel.value); });
    return sel.value;
  }
  // every chart can be saved for a paper: PNG from the canvas, SVG by re-rendering its option with the SVG renderer
  var SVG_ICON = 'path://M4,2h11l5,5v15H4z M15,2v5h5 M7,17l2.5-6l2.5,6 M8,15h3 M14,11v6h3';
  function svgOf(chart) {
    var o = chart.getOption();
    o.animation = false;
    o.toolbox = [];
    (o.dataZoom || []).forEach(function (z) { if (z.type === 'slider') { z.show = false; } });
    var box = document.createElement('div');
    box.style.cssText = 'position:absolute;left:-10000px;top:0;width:' + chart.getWidth() + 'px;height:' + chart.getHeight() + 'px';
    document.body.appendChild(box);
    var svg = echarts.init(box, null, { renderer: 'svg' });
    svg.setOption(o);
    var node = box.querySelector('svg');
    node.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
    var text = node.outerHTML;
    svg.dispose();
    box.remove();
    return text;
  }
  function download(name, blob) {
    var a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = name;
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 0);
  }
  function toolbox(name) {
    return { right: 6, top: 0, itemSize: 14, feature: {
      saveAsImage: { type: 'png', pixelRatio: 2, name: 'ipg-' + name, title: 'PNG', backgroundColor: '#fff' },
      mySvg: { show: true, title: 'SVG', icon: SVG_ICON, onclick: function () {
        var c = charts.filter(function (x) { return x.__ipgName === name; })[0];
        download('ipg-' + name + '.svg', new Blob([svgOf(c)], { type: 'image/svg+xml' }));
      } }
    } };
  }
  // the page's font by name: ECharts measures text (legend spacing, label widths) in the family it is given, and 'inherit' measures wrong
  var FONT = window.getComputedStyle(document.body).fontFamily || 'sans-serif';
  var base = { animation: false, textStyle: { fontFamily: FONT } };
  function opt(o, name) {
    for (var k in base) { if (!(k in o)) { o[k] = base[k]; } }
    if (name && !('toolbox' in o)) { o.toolbox = toolbox(name); }
    return o;
  }
  // an accuracy axis that starts near the data: 5-point steps around the values and their intervals
  function accuracyRange(values) {
    var lo = Infinity, hi = -Infinity;
    values.forEach(function (v) { if (v !== null && v !== undefined && isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); } });
    if (!isFinite(lo)) { return { min: 0, max: 1 }; }
    var pad = Math.max(0.02, 0.1 * (hi - lo));
    var min = Math.max(0, Math.floor((lo - pad) * 20) / 20), max = Math.min(1, Math.ceil((hi + pad) * 20) / 20);
    if (min < 0.1) { min = 0; }
    return { min: min, max: max };
  }
  // the axis break drawn where a truncated accuracy axis meets the plot's bottom
  function axisBreak(gridLeft, gridBottom) {
    return { type: 'group', left: gridLeft - 7, bottom: gridBottom - 5, z: 100, silent: true, children: [
      { type: 'rect', shape: { x: 0, y: 3, width: 14, height: 5 }, style: { fill: '#fff' } },
      { type: 'line', shape: { x1: 0, y1: 5, x2: 14, y2: 1 }, style: { stroke: '#1f2933', lineWidth: 1.2 } },
      { type: 'line', shape: { x1: 0, y1: 10, x2: 14, y2: 6 }, style: { stroke: '#1f2933', lineWidth: 1.2 } }
    ] };
  }
  function accuracyAxis(r, extra) {
    var a = { type: 'value', min: r.min, max: r.max, name: r.min > 0 ? 'accuracy (axis from ' + Math.round(100 * r.min) + '%)' : 'accuracy',
      nameTextStyle: { align: 'left' },
      axisLabel: { formatter: function (v) { return Math.round(100 * v) + '%'; } } };
    for (var k in extra || {}) { a[k] = extra[k]; }
    return a;
  }
  // a value axis for a secondary quantity that is never stretched over a tiny range
  function tokenRange(values) {
    var lo = Infinity, hi = -Infinity;
    values.forEach(function (v) { if (v !== null && v !== undefined && isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); } });
    if (!isFinite(lo)) { return { min: 0, max: 1 }; }
    var mid = (lo + hi) / 2, half = Math.max((hi - lo) / 2 * 1.25, 1, 0.1 * Math.abs(mid));
    return { min: Math.max(0, Math.floor(mid - half)), max: Math.ceil(mid + half) };
  }
  // category labels wrapped at spaces and after hyphens, never inside a word
  // fits: the most characters per line, or a function telling whether a line fits
  function wrapLabel(text, fits) {
    var ok = typeof fits === 'function' ? fits : function (l) { return l.length <= fits; };
    return String(text).split('\n').map(function (line) {
      var words = line.split(/(?<=-)|(?= )/), out = [], cur = '';
      words.forEach(function (w) {
        var piece = cur === '' ? w.replace(/^ /, '') : w;
        if (cur !== '' && !ok(cur + piece)) { out.push(cur); cur = w.replace(/^ /, ''); } else { cur += piece; }
      });
      if (cur !== '') { out.push(cur); }
      return out.join('\n');
    }).join('\n');
  }

  function errorBars(name, points, color) {
    return {
      type: 'custom', name: name, data: points, z: 10, silent: true,
      encode: { x: 0, y: [1, 2] },
      renderItem: function (params, api) {
        var lo = api.coord([api.value(0), api.value(1)]);
        var hi = api.coord([api.value(0), api.value(2)]);
        var style = { stroke: color || '#1f2933', lineWidth: 1.4 };
        return { type: 'group', children: [
          { type: 'line', shape: { x1: lo[0], y1: lo[1], x2: hi[0], y2: hi[1] }, style: style },
          { type: 'line', shape: { x1: lo[0] - 5, y1: lo[1], x2: lo[0] + 5, y2: lo[1] }, style: style },
          { type: 'line', shape: { x1: hi[0] - 5, y1: hi[1], x2: hi[0] + 5, y2: hi[1] }, style: style }
        ] };
      }
    };
  }

  // ---------------------------------------------------------------- score distribution
  var scoreChart = init('chart-scores');
  function drawScores(site) {
    var s = data.sites.filter(function (x) { return x.site === site; })[0];
    scoreChart.setOption(opt({
      title: { text: site, left: 'center', textStyle: { fontSize: 13, fontWeight: 'normal', color: '#3e4c59' } },
      grid: { left: 80, right: 30, top: 40, bottom: 78 },
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, formatter: function (ps) {
        var i = ps[0].dataIndex;
        return esc(site) + '<br>component <b>' + i + '</b><br>S = ' + esc(fmt(s.scores[i]))
          + (s.std_err[i] !== null ? ' &plusmn; ' + esc(fmt(s.std_err[i])) + ' (s.e.)' : '')
          + '<br>positive on ' + s.positive_prompts[i] + ' / ' + s.prompts + ' prompts';
      } },
      xAxis: { type: 'category', data: range(s.width), name: 'component index', nameLocation: 'middle', nameGap: 30 },
      yAxis: { type: 'value', name: 'score S\u1d62', axisLabel: { formatter: function (v) { return fmt(v, 3); } } },
      dataZoom: [{ type: 'inside' }, { type: 'slider', height: 18, bottom: 10 }],
      visualMap: { show: false, dimension: 1, pieces: [{ lt: 0, color: NEG }, { gte: 0, color: POS }] },
      series: [{ type: 'bar', name: 'S', data: s.scores, barCategoryGap: '15%' }]
    }, 'scores'), true);
  }
  drawScores(siteSelect('score-site', drawScores));

  var heat = init('chart-heatmap');
  if (heat) {
    var width = Math.max.apply(null, data.sites.map(function (s) { return s.width; }));
    var cells = [], m = 0;
    data.sites.forEach(function (s, y) {
      s.scores.forEach(function (v, x) { cells.push([x, y, v]); m = Math.max(m, Math.abs(v)); });
    });
    if (m === 0) { m = 1; }
    heat.setOption(opt({
      tooltip: { position: 'top', formatter: function (p) {
        return esc(data.sites[p.value[1]].site) + '<br>component <b>' + p.value[0] + '</b><br>S = ' + esc(fmt(p.value[2]));
      } },
      grid: { left: 120, right: 100, top: 20, bottom: 78 },
      xAxis: { type: 'category', data: range(width), name: 'component index', nameLocation: 'middle', nameGap: 30, splitArea: { show: false } },
      yAxis: { type: 'category', data: data.sites.map(function (s) { return short(s.site); }), inverse: true },
      visualMap: { min: -m, max: m, calculable: true, orient: 'vertical', right: 8, top: 'center', itemHeight: 200,
        inRange: { color: [NEG, '#f5f5f5', POS] }, formatter: function (v) { return fmt(v, 2); } },
      dataZoom: [{ type: 'inside', xAxisIndex: 0 }, { type: 'slider', xAxisIndex: 0, height: 18, bottom: 10 }],
      series: [{ type: 'heatmap', data: cells, emphasis: { itemStyle: { borderColor: '#1f2933', borderWidth: 1 } } }]
    }, 'heatmap'));
  }

  // ---------------------------------------------------------------- Jbar curves
  var curveChart = init('chart-curves');
  function drawCurves(site) {
    var series = [];
    var mine = data.curves.filter(function (c) { return c.site === site; }).slice(0, 300);
    mine.forEach(function (c) {
      series.push({ type: 'line', name: 'prompt ' + c.id, data: c.alpha.map(function (a, k) { return [a, c.jbar[k]]; }),
        lineStyle: { width: 1, color: 'rgba(97,110,124,0.45)' }, itemStyle: { color: 'rgba(97,110,124,0.6)' },
        symbolSize: 4, emphasis: { focus: 'series', lineStyle: { width: 2 } } });
    });
    var mean = data.mean_curves.filter(function (c) { return c.site === site; })[0];
    series.push({ type: 'line', name: 'mean over prompts', data: mean.alpha.map(function (a, k) { return [a, mean.jbar[k]]; }),
      lineStyle: { width: 3, color: POS }, itemStyle: { color: POS }, symbolSize: 7, z: 5 });
    curveChart.setOption(opt({
      grid: { left: 70, right: 30, top: 40, bottom: 50 },
      legend: { data: ['mean over prompts'], top: 5 },
      tooltip: { trigger: 'item', formatter: function (p) {
        return esc(p.seriesName) + '<br>&alpha; = ' + esc(fmt(p.value[0], 3)) + '<br>J&#772; = ' + esc(fmt(p.value[1]));
      } },
      xAxis: { type: 'value', min: 0, max: 1, name: '\u03b1', nameLocation: 'middle', nameGap: 28 },
      yAxis: { type: 'value', name: 'J\u0304(\u03b1)', scale: true, axisLabel: { formatter: function (v) { return fmt(v, 3); } } },
      series: series
    }, 'curves'), true);
  }
  drawCurves(siteSelect('curve-site', drawCurves));

  // ---------------------------------------------------------------- comparison and gamma sweep
  var cmp = data.comparison.value;
  var cmpChart = init('chart-comparison');
  if (cmp && cmpChart) {
    var cats = [], bars = [], err = [];
    function add(label, arm, color) {
      if (!arm) { return; }
      var i = cats.length;
      cats.push(label);
      bars.push({ value: arm.accuracy, itemStyle: { color: color }, arm: arm });
      if (arm.lower !== null && arm.upper !== null) { err.push([i, arm.lower, arm.upper]); }
    }
    function setting(arm) {
      return arm.strength !== null ? 'add ' + fmt(arm.strength, 3) : '\u03b3=' + fmt(arm.gamma, 3);
    }
    add('original', cmp.original, GREY);
    cmp.methods.forEach(function (m) {
      var name = m.method + ((m.enhance || m.suppress).seed_accuracies.length > 1 ? ' (' + (m.enhance || m.suppress).seed_accuracies.length + ' seeds)' : '');
      if (m.enhance) { add(name + '\nenhance ' + setting(m.enhance), m.enhance, POS); }
      if (m.suppress) { add(name + '\nsuppress ' + setting(m.suppress), m.suppress, NEG); }
    });
    var orig = cmp.original;
    var accRange = accuracyRange(bars.map(function (b) { return b.value; }).concat(
      err.map(function (e) { return e[1]; }), err.map(function (e) { return e[2]; })));
    var CMP_GRID = { left: 70, right: 30, top: 44, bottom: 96 };
    var measure = document.createElement('canvas').getContext('2d');
    var family = FONT;
    function textWidth(t, size) { measure.font = size + 'px ' + family; return measure.measureText(t).width; }
    // the label layout that fits a column: the longest word sets the font size (11 down to 8 px), lines are
    // wrapped at spaces and hyphens to the column's width, and labels turn 35 degrees when even 8 px is too wide
    function labelLayout() {
      var col = (cmpChart.getWidth() - CMP_GRID.left - CMP_GRID.right) / Math.max(1, cats.length) - 6;
      var longest = 0;
      cats.forEach(function (c) { c.split(/\s+|(?<=-)/).forEach(function (w) { longest = Math.max(longest, textWidth(w, 11)); }); });
      var size = longest > col ? Math.max(8, Math.floor(110 * col / longest) / 10) : 11;
      var rotate = longest * size / 11 > col + 0.5;
      return { size: size, rotate: rotate ? 35 : 0, col: col };
    }
    var legendSeries = [['original', GREY], ['enhance (\u03b3 > 1 or vector added)', POS], ['suppress (\u03b3 < 1)', NEG]].map(function (x) {
      return { type: 'scatter', name: x[0], data: [], itemStyle: { color: x[1] }, silent: true };
    });
    var drawComparison = function () {
      var layout = labelLayout();
      cmpChart.setOption(opt({
        grid: CMP_GRID,
        legend: { top: 4, left: 'center', selectedMode: false, icon: 'rect', itemWidth: 14, itemHeight: 10,
          data: legendSeries.map(function (x) { return x.name; }) },
        graphic: accRange.min > 0 ? [axisBreak(CMP_GRID.left, CMP_GRID.bottom)] : [],
        tooltip: { trigger: 'item', formatter: function (p) {
          if (p.seriesType !== 'bar') { return ''; }
          var a = bars[p.dataIndex].arm;
          return esc(cats[p.dataIndex].replace('\n', ' ')) + '<br>accuracy <b>' + pct(a.accuracy) + '</b>'
            + (a.lower !== null ? ' [' + pct(a.lower) + ', ' + pct(a.upper) + ']' : '')
            + '<br>' + a.correct + ' of ' + a.n + ' problems' + (a.mean_tokens !== null ? '<br>mean length ' + esc(fmt(a.mean_tokens, 4)) + ' tokens' : '')
            + (a.seed_accuracies.length > 1 ? '<br>per seed: ' + a.seed_accuracies.map(pct).join(', ') : '')
            + (a.intervention ? '<br><span style="color:#616e7c">' + esc(a.intervention) + '</span>' : '');
        } },
        // labels wrap at spaces and hyphens to fit their own column, so neighbours never overlap and no word is cut
        xAxis: { type: 'category', data: cats, axisLabel: { interval: 0, fontSize: layout.size, lineHeight: Math.round(1.35 * layout.size),
          margin: 10, rotate: layout.rotate, fontFamily: family, formatter: function (v) {
            return layout.rotate ? String(v).replace(/\n/g, ' ') : wrapLabel(v, function (line) { return textWidth(line, layout.size) <= layout.col; });
          } } },
        yAxis: accuracyAxis(accRange),
        series: [
          { type: 'bar', name: 'accuracy', data: bars, barMaxWidth: 46,
            // values inside the bars at the labels' size, or none when a bar is too narrow for them (the table has them)
            label: { show: textWidth('100.0%', layout.size) <= 0.8 * (layout.col + 6), position: 'insideBottom', color: '#fff',
              fontSize: layout.size, fontFamily: family, formatter: function (p) { return pct(p.value); } },
            markLine: orig ? { silent: true, symbol: 'none', lineStyle: { type: 'dashed', color: GREY }, label: { formatter: 'original', position: 'insideEndTop', color: GREY },
              data: [{ yAxis: orig.accuracy }] } : undefined,
            markArea: orig && orig.lower !== null ? { silent: true, itemStyle: { color: 'rgba(123,135,148,0.12)' },
              data: [[{ yAxis: Math.max(orig.lower, accRange.min) }, { yAxis: Math.min(orig.upper, accRange.max) }]] } : undefined },
          errorBars('95% interval', err)
        ].concat(legendSeries)
      }, 'comparison'));
    };
    drawComparison();
    cmpChart.__ipgRedraw = drawComparison;
  }
  var sweepChart = init('chart-sweep');
  if (cmp && sweepChart) {
    var methods = [];
    cmp.gamma_sweep.forEach(function (p) { if (methods.indexOf(p.method) < 0) { methods.push(p.method); } });
    var palette = [POS, '#d9822b', '#1f8a4c', '#8e44ad', '#c8372d', '#616e7c'];
    var ss = [];
    methods.forEach(function (m, j) {
      var pts = cmp.gamma_sweep.filter(function (p) { return p.method === m; }).sort(function (a, b) { return a.gamma - b.gamma; });
      var color = palette[j % palette.length];
      ss.push({ type: 'line', name: m + ' accuracy', yAxisIndex: 0, data: pts.map(function (p) { return [p.gamma, p.arm.accuracy]; }),
        lineStyle: { color: color, width: 2 }, itemStyle: { color: color }, symbolSize: 7 });
      var eb = errorBars(m + ' interval', pts.filter(function (p) { return p.arm.lower !== null; }).map(function (p) { return [p.gamma, p.arm.lower, p.arm.upper]; }), color);
      eb.yAxisIndex = 0;
      ss.push(eb);
      ss.push({ type: 'line', name: m + ' mean length', yAxisIndex: 1, data: pts.map(function (p) { return [p.gamma, p.arm.mean_tokens]; }),
        lineStyle: { color: color, type: 'dashed' }, itemStyle: { color: color }, symbol: 'triangle', symbolSize: 7 });
    });
    var sweepAcc = [], sweepTok = [];
    cmp.gamma_sweep.forEach(function (p) { sweepAcc.push(p.arm.accuracy, p.arm.lower, p.arm.upper); sweepTok.push(p.arm.mean_tokens); });
    var sweepRange = accuracyRange(sweepAcc), tokRange = tokenRange(sweepTok);
    var SWEEP_GRID = { left: 70, right: 80, top: 56, bottom: 50 };
    sweepChart.setOption(opt({
      grid: SWEEP_GRID,
      legend: { top: 4, left: 10, right: 70, data: ss.filter(function (s) { return s.type === 'line'; }).map(function (s) { return s.name; }) },
      graphic: sweepRange.min > 0 ? [axisBreak(SWEEP_GRID.left, SWEEP_GRID.bottom)] : [],
      tooltip: { trigger: 'axis', formatter: function (ps) {
        var out = '\u03b3 = ' + esc(fmt(ps[0].value[0], 3));
        ps.forEach(function (p) {
          if (p.seriesType !== 'line') { return; }
          out += '<br>' + esc(p.seriesName) + ': ' + (p.seriesName.indexOf('accuracy') >= 0 ? pct(p.value[1]) : esc(fmt(p.value[1], 4)));
        });
        return out;
      } },
      xAxis: { type: 'value', name: '\u03b3', nameLocation: 'middle', nameGap: 28, scale: true },
      yAxis: [
        accuracyAxis(sweepRange),
        // at least a token (or 10 % of the mean) from bottom to top, so a flat length does not look like a steep one
        { type: 'value', name: 'mean tokens (dashed)', min: tokRange.min, max: tokRange.max, splitLine: { show: false },
          nameTextStyle: { align: 'right' }, axisLabel: { formatter: function (v) { return fmt(v, 4); } } }
      ],
      series: ss
    }, 'sweep'));
  }

  // ---------------------------------------------------------------- process level
  var proc = data.process.value;
  var procChart = init('chart-process');
  if (proc && procChart) {
    var multi = data.sites.length > 1;
    var ylab = proc.components.map(function (c) { return (multi ? short(c.site) + ' ' : '') + '#' + c.component; });
    var xlab = range(proc.bins).map(function (i) {
      return Math.round(100 * i / proc.bins) + '\u2013' + Math.round(100 * (i + 1) / proc.bins) + '%';
    });
    var pc = [], pm = 0;
    proc.components.forEach(function (c, y) {
      c.frequency.forEach(function (f, x) { pc.push([x, y, f === null ? '-' : f]); if (f !== null) { pm = Math.max(pm, f); } });
    });
    procChart.setOption(opt({
      tooltip: { position: 'top', formatter: function (p) {
        var c = proc.components[p.value[1]];
        return esc(c.site) + ' component <b>' + c.component + '</b> (S = ' + esc(fmt(c.score)) + ')<br>progress ' + esc(xlab[p.value[0]])
          + '<br>fires at ' + pct(p.value[2]) + ' of ' + proc.tokens_per_bin[p.value[0]] + ' tokens<br>threshold |h| &gt; ' + esc(fmt(c.threshold));
      } },
      grid: { left: 120, right: 100, top: 10, bottom: 60 },
      xAxis: { type: 'category', data: xlab, name: 'normalized reasoning progress', nameLocation: 'middle', nameGap: 32 },
      yAxis: { type: 'category', data: ylab, inverse: true },
      visualMap: { min: 0, max: pm > 0 ? pm : 1, calculable: true, orient: 'vertical', right: 8, top: 'center', itemHeight: 200,
        inRange: { color: ['#f7fbff', '#9ecae1', '#2171b5', '#08306b'] }, formatter: function (v) { return pct(v); } },
      series: [{ type: 'heatmap', data: pc, label: { show: true, fontSize: 11, formatter: function (p) {
        return typeof p.value[2] === 'number' ? Math.round(100 * p.value[2]) + '%' : '';
      } } }]
    }, 'process'));
  }

  // ---------------------------------------------------------------- trajectories, token by token
  // full colour at the 95th percentile of |delta log p| over every token shown (at least 0.001 nats)
  var deltas = [];
  (data.examples.value || []).forEach(function (ex) {
    ex.trajectories.forEach(function (t) {
      for (var k = 0; k < t.tokens.length; k++) { deltas.push(Math.abs(t.logp_intervened[k] - t.logp_original[k])); }
    });
  });
  deltas.sort(function (a, b) { return a - b; });
  var SCALE = deltas.length ? Math.max(1e-3, deltas[Math.min(deltas.length - 1, Math.floor(0.95 * deltas.length))]) : 1;
  function tokenColor(d) {
    var t = Math.max(-1, Math.min(1, d / SCALE));
    return t < 0 ? 'rgba(200,55,45,' + (0.8 * -t).toFixed(3) + ')' : 'rgba(47,95,208,' + (0.8 * t).toFixed(3) + ')';
  }
  var legend = document.getElementById('token-legend');
  if (legend) {
    var bar = el('span', 'bar');
    bar.style.background = 'linear-gradient(to right, ' + tokenColor(-SCALE) + ', rgba(255,255,255,0), ' + tokenColor(SCALE) + ')';
    legend.appendChild(el('span', null, '\u2264 \u2212' + fmt(SCALE, 2) + ' nats: less likely after the intervention'));
    legend.appendChild(bar);
    legend.appendChild(el('span', null, '\u2265 +' + fmt(SCALE, 2) + ' nats: more likely'));
    legend.appendChild(el('span', 'small', '(full colour at the 95th percentile of |\u0394 log p| over the tokens shown)'));
    legend.setAttribute('data-scale', String(SCALE));
  }
  var list = document.getElementById('example-list');
  if (list && data.examples.value) {
    data.examples.value.forEach(function (ex) {
      var box = el('div', 'example');
      var q = el('div', 'q');
      q.appendChild(el('span', 'id', 'prompt ' + ex.prompt + ' \u00b7 ' + ex.id));
      var qt = ex.question.length > 600 ? ex.question.slice(0, 600) + '\u2026' : ex.question;
      q.appendChild(el('span', null, qt));
      if (ex.gold !== null) { q.appendChild(el('div', 'id', 'gold answer: ' + ex.gold)); }
      box.appendChild(q);
      ex.trajectories.forEach(function (t) {
        var tr = el('div', 'traj');
        var meta = el('div', 'meta');
        meta.appendChild(el('span', 'label', t.label));
        meta.appendChild(t.correct === null ? el('span', 'mark na', 'no gold answer')
          : t.correct ? el('span', 'mark ok', '\u2713 correct') : el('span', 'mark bad', '\u2717 incorrect'));
        if (t.reward !== null) { meta.appendChild(el('span', null, 'reward ' + fmt(t.reward))); }
        var sum = 0;
        for (var k = 0; k < t.tokens.length; k++) { sum += t.logp_intervened[k] - t.logp_original[k]; }
        meta.appendChild(el('span', null, t.tokens.length + ' tokens \u00b7 \u03a3 \u0394 log p = ' + fmt(sum)));
        tr.appendChild(meta);
        var toks = el('div', 'tokens');
        t.tokens.forEach(function (piece, k) {
          var d = t.logp_intervened[k] - t.logp_original[k];
          var s = el('span', 'tok', piece);
          s.style.backgroundColor = tokenColor(d);
          s.setAttribute('title', JSON.stringify(piece) + '\nlog p original ' + fmt(t.logp_original[k]) + '\nlog p intervened '
            + fmt(t.logp_intervened[k]) + '\n\u0394 ' + fmt(d));
          toks.appendChild(s);
        });
        tr.appendChild(toks);
        box.appendChild(tr);
      });
      list.appendChild(box);
    });
  }

  // ---------------------------------------------------------------- support prompts
  var plist = document.getElementById('prompt-list');
  data.prompts.slice(0, 500).forEach(function (p) {
    var d = el('details', 'prompt');
    d.open = p.index === 0;
    var s = el('summary');
    s.appendChild(el('b', null, '#' + p.index + ' '));
    var qt = p.question.length > 140 ? p.question.slice(0, 140) + '\u2026' : p.question;
    s.appendChild(el('span', null, qt));
    var first = p.completions[0];
    if (first) { s.appendChild(el('span', 'nums', 'J\u0304(0) = ' + fmt(first.jbar0) + ', J\u0304(1) = ' + fmt(first.jbar1))); }
    d.appendChild(s);
    d.appendChild(el('div', 'id', 'id ' + p.id + (p.gold !== null ? ' \u00b7 gold answer: ' + p.gold : '')));
    d.appendChild(el('div', 'qtext', p.question));
    if (first) {
      first.items.forEach(function (c) {
        var box = el('div', 'completion');
        box.appendChild(el('span', 'r', 'reward ' + fmt(c.reward) + ' \u00b7 ' + c.tokens + ' tokens \u00b7 \u03b1 = ' + fmt(first.alpha, 3)));
        box.appendChild(document.createTextNode(c.text));
        d.appendChild(box);
      });
    }
    plist.appendChild(d);
  });

  window.addEventListener('resize', function () {
    charts.forEach(function (c) { c.resize(); if (c.__ipgRedraw) { c.__ipgRedraw(); } });
  });
  window.__ipgReport = { charts: charts.length, ready: true, svg: function (name) {
    return svgOf(charts.filter(function (c) { return c.__ipgName === name; })[0]);
  }, wrapLabel: wrapLabel, accuracyRange: accuracyRange, tokenRange: tokenRange, tokenScale: SCALE };
})();
