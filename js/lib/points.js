// Drawing many points: WebGL (gl.POINTS) when available, Canvas 2D otherwise.

const VERTEX = `
attribute vec2 a_pos; attribute vec3 a_col;
uniform vec2 u_center; uniform vec2 u_scale; uniform float u_size;
varying vec3 v_col;
void main() { gl_Position = vec4((a_pos - u_center) * u_scale, 0.0, 1.0); gl_PointSize = u_size; v_col = a_col; }`;
const FRAGMENT = `
precision mediump float; varying vec3 v_col;
void main() { gl_FragColor = vec4(v_col, 0.85); }`;

/**
 * A point renderer over one canvas. `view` maps data to the canvas: a centre (data units)
 * and a scale (CSS pixels per data unit).
 * @param {HTMLCanvasElement} canvas
 * @param {{forceCanvas2d?: boolean}} [options]
 */
export function pointRenderer(canvas, options = {}) {
  // The CSS size comes from the style the widget sets, not from layout: a widget may draw
  // before it is attached to the page, when clientWidth is still 0.
  const cssWidth = () => parseFloat(canvas.style.width) || canvas.clientWidth || canvas.width;
  const cssHeight = () => parseFloat(canvas.style.height) || canvas.clientHeight || canvas.height;
  const gl = options.forceCanvas2d ? null : canvas.getContext("webgl", { antialias: false, preserveDrawingBuffer: true });
  let n = 0, xy = null, rgb = null;
  if (!gl) {
    const ctx = canvas.getContext("2d");
    return {
      kind: "canvas2d",
      setData(points, colours) { xy = points; rgb = colours; n = points.length / 2; },
      draw(view, size, stride = 1) {
        const { width, height } = canvas;
        const ratio = width / cssWidth();
        ctx.clearRect(0, 0, width, height);
        const s = Math.max(1, Math.round(size * ratio));
        for (let i = 0; i < n; i += stride) {
          const px = (xy[2 * i] - view.cx) * view.scale * ratio + width / 2;
          const py = height / 2 - (xy[2 * i + 1] - view.cy) * view.scale * ratio;
          if (px < -s || py < -s || px > width || py > height) continue;
          ctx.fillStyle = `rgb(${rgb[3 * i]},${rgb[3 * i + 1]},${rgb[3 * i + 2]})`;
          ctx.fillRect(px - s / 2, py - s / 2, s, s);
        }
      },
      destroy() {},
    };
  }
  const compile = (type, source) => {
    const shader = gl.createShader(type);
    gl.shaderSource(shader, source);
    gl.compileShader(shader);
    return shader;
  };
  const program = gl.createProgram();
  gl.attachShader(program, compile(gl.VERTEX_SHADER, VERTEX));
  gl.attachShader(program, compile(gl.FRAGMENT_SHADER, FRAGMENT));
  gl.linkProgram(program);
  gl.useProgram(program);
  const posBuffer = gl.createBuffer(), colBuffer = gl.createBuffer();
  const aPos = gl.getAttribLocation(program, "a_pos"), aCol = gl.getAttribLocation(program, "a_col");
  const uCenter = gl.getUniformLocation(program, "u_center");
  const uScale = gl.getUniformLocation(program, "u_scale");
  const uSize = gl.getUniformLocation(program, "u_size");
  gl.enable(gl.BLEND);
  gl.blendFunc(gl.SRC_ALPHA, gl.ONE_MINUS_SRC_ALPHA);
  return {
    kind: "webgl",
    setData(points, colours) {
      n = points.length / 2;
      gl.bindBuffer(gl.ARRAY_BUFFER, posBuffer);
      gl.bufferData(gl.ARRAY_BUFFER, points, gl.STATIC_DRAW);
      gl.enableVertexAttribArray(aPos);
      gl.vertexAttribPointer(aPos, 2, gl.FLOAT, false, 0, 0);
      gl.bindBuffer(gl.ARRAY_BUFFER, colBuffer);
      gl.bufferData(gl.ARRAY_BUFFER, colours, gl.STATIC_DRAW);
      gl.enableVertexAttribArray(aCol);
      gl.vertexAttribPointer(aCol, 3, gl.UNSIGNED_BYTE, true, 0, 0);
    },
    draw(view, size, stride = 1) {
      gl.viewport(0, 0, canvas.width, canvas.height);
      gl.clearColor(1, 1, 1, 1);
      gl.clear(gl.COLOR_BUFFER_BIT);
      gl.uniform2f(uCenter, view.cx, view.cy);
      gl.uniform2f(uScale, (2 * view.scale) / cssWidth(), (2 * view.scale) / cssHeight());
      gl.uniform1f(uSize, size * (canvas.width / cssWidth()));
      if (stride > 1) {
        // a strided view of the same buffers: every stride-th point
        gl.bindBuffer(gl.ARRAY_BUFFER, posBuffer);
        gl.vertexAttribPointer(aPos, 2, gl.FLOAT, false, 8 * stride, 0);
        gl.bindBuffer(gl.ARRAY_BUFFER, colBuffer);
        gl.vertexAttribPointer(aCol, 3, gl.UNSIGNED_BYTE, true, 3 * stride, 0);
        gl.drawArrays(gl.POINTS, 0, Math.floor(n / stride));
        gl.bindBuffer(gl.ARRAY_BUFFER, posBuffer);
        gl.vertexAttribPointer(aPos, 2, gl.FLOAT, false, 0, 0);
        gl.bindBuffer(gl.ARRAY_BUFFER, colBuffer);
        gl.vertexAttribPointer(aCol, 3, gl.UNSIGNED_BYTE, true, 0, 0);
      } else {
        gl.drawArrays(gl.POINTS, 0, n);
      }
    },
    destroy() {
      gl.deleteBuffer(posBuffer);
      gl.deleteBuffer(colBuffer);
      gl.deleteProgram(program);
    },
  };
}
